/**
 * What a flow check reports: one FlowProblem per mistake, naming the file and the node, and the FlowError
 * that carries all of a load's problems to whoever starts the app.
 */

export type FlowProblemCode =
  | 'parse'
  | 'schema'
  | 'unknown_kind'
  | 'unknown_action'
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
  node?: string;
  message: string;
}

/** How each check reports a problem; the file is filled in by checkFlow, the node is the one at fault. */
export type Add = (code: FlowProblemCode, message: string, node?: string) => void;

export function formatProblem(p: FlowProblem): string {
  return `${p.file}: ${p.node === undefined ? '' : `node "${p.node}": `}${p.message}`;
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
