/**
 * What a flow check reports: one FlowProblem per mistake, naming the file, the line, the node and the
 * fix, and the FlowError that carries all of a load's problems to whoever starts the app (or to
 * `npm run flows -- check`, which prints the same lines).
 */

export type FlowProblemCode =
  | 'parse'
  | 'schema'
  | 'unknown_kind'
  | 'unknown_action'
  | 'menu_key'
  | 'locales'
  | 'dangling_target'
  | 'missing_prompt'
  | 'prompt_placeholders'
  | 'unguarded_action'
  | 'gate'
  | 'fallback_not_transfer'
  | 'say_cycle'
  | 'duplicate_flow'
  | 'missing_main';

export interface FlowProblem {
  code: FlowProblemCode;
  file: string;
  /** 1-based line in `file`, when the file was read from disk. */
  line?: number;
  node?: string;
  message: string;
  /** What to change, in the flow author's words. */
  fix: string;
  /** Where in the file (e.g. ["nodes", "main-menu", "options", "1", "next"]), for the line. */
  path?: readonly string[];
}

/** How each check reports a problem; checkFlow fills in the file, loadFlows the line from `path`. */
export type Add = (code: FlowProblemCode, message: string, node?: string, path?: readonly string[], fix?: string) => void;

/** The usual fix per kind of problem (docs/flows.md, Validation errors); a check may give a sharper one. */
export const FIXES: Record<FlowProblemCode, string> = {
  parse: 'correct the YAML/JSON syntax on that line (in YAML, quote "*" and "#" menu keys)',
  schema: 'correct or remove the field (docs/flows.md lists each kind\'s fields)',
  unknown_kind: 'use one of the kinds listed',
  unknown_action: 'use one of the actions listed (docs/flows.md, Actions)',
  menu_key: 'use one keypad key per option: 0-9, "*" or "#"',
  locales: 'list each locale once in locales and give prompts only for those',
  dangling_target: 'add that node, or correct the id',
  missing_prompt: 'add the prompt to that locale',
  prompt_placeholders: 'use exactly the placeholders named',
  unguarded_action: 'put a verify node on that path',
  gate: 'set gate: to a verify node that leads to this action',
  fallback_not_transfer: 'point it at a transfer node',
  say_cycle: 'end the loop at a menu (or another node that waits for the caller)',
  duplicate_flow: 'give each flow file its own id',
  missing_main: 'every deployment needs a flow with id "main" that sets failClosed',
};

export function formatProblem(p: FlowProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}`;
  return `${where}: ${p.node === undefined ? '' : `node "${p.node}": `}${p.message} (fix: ${p.fix})`;
}

/** One error for all the problems of a load, so a flow author fixes them in one pass. */
export class FlowError extends Error {
  override readonly name = 'FlowError';
  readonly code = 'invalid_flow' as const;
  constructor(
    readonly problems: readonly FlowProblem[],
    options?: { cause?: unknown },
  ) {
    super(problems.map(formatProblem).join('\n'), options);
  }
}
