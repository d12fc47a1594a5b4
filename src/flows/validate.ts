import { placeholdersOf } from '../engine/prompts.js';
import { ACTION_RESULT_PROMPTS, isProtectedAction, type Flow, type FlowNode, type Kind, type NodeOf } from './schema.js';

/**
 * Semantic checks a schema cannot express: every target exists, every prompt exists in every locale
 * with the placeholders the engine fills, and no protected action can be reached without a verify node.
 */

export type FlowProblemCode =
  | 'parse'
  | 'schema'
  | 'unknown_kind'
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

export interface CheckOptions {
  /** Other flows, for `redirect` targets. Without it, only redirects to this flow are checked. */
  flowById?: (id: string) => Flow | undefined;
  /** Nodes other flows redirect into: entry points besides `start` for the verify-gate search. */
  extraEntries?: readonly string[];
}

interface Edge {
  field: string;
  target: string;
  /** The verified branch of a verify node: the gate search does not cross it. */
  guarded?: boolean;
  /** Target came from a default (`home`), which is checked once at flow level. */
  implied?: boolean;
}

// A Record, not a switch, so a new node kind does not compile until its edges are declared.
const edgesOf: { [K in Kind]: (n: NodeOf<K>, flow: Flow) => Edge[] } = {
  say: (n) => [{ field: 'next', target: n.next }],
  menu: (n) => [
    ...Object.entries(n.options).map(([key, o]) => ({ field: `options.${key}.next`, target: o.next })),
    { field: 'onExhausted', target: n.onExhausted },
  ],
  verify: (n, f) => [
    { field: 'next', target: n.next, guarded: true },
    { field: 'onFail', target: n.onFail },
    { field: 'onCancel', target: n.onCancel ?? f.home, implied: n.onCancel === undefined },
  ],
  action: (n, f) => [
    { field: 'next', target: n.next ?? f.home, implied: n.next === undefined },
    { field: 'onFailure', target: n.onFailure ?? f.home, implied: n.onFailure === undefined },
    ...(n.gate === undefined ? [] : [{ field: 'gate', target: n.gate }]),
  ],
  transfer: () => [],
  hangup: () => [],
  redirect: () => [],
};

/** A prompt a node speaks; `params` = the placeholders it gets, undefined = chosen by the backend. */
interface PromptUse {
  field: string;
  key: string;
  params?: readonly string[];
}

const fixed = (field: string, key: string, params: readonly string[] = []): PromptUse => ({ field, key, params });

const promptsOf: { [K in Kind]: (n: NodeOf<K>) => PromptUse[] } = {
  say: (n) => [fixed('prompt', n.prompt)],
  menu: (n) => [fixed('prompt', n.prompt), fixed('noInputPrompt', n.noInputPrompt), fixed('invalidPrompt', n.invalidPrompt)],
  verify: (n) => [
    fixed('prompts.code', n.prompts.code, ['code']),
    fixed('prompts.reissued', n.prompts.reissued, ['code']),
    fixed('prompts.waiting', n.prompts.waiting),
    fixed('prompts.options', n.prompts.options),
    fixed('prompts.confirmed', n.prompts.confirmed),
    fixed('prompts.canceled', n.prompts.canceled),
    fixed('prompts.invalid', n.prompts.invalid),
  ],
  action: (n) => [
    ...(n.chooseAccount
      ? [fixed('prompts.accountOption', n.prompts.accountOption, ['last4', 'n']), fixed('prompts.invalid', n.prompts.invalid)]
      : []),
    ...(isProtectedAction(n.action) ? ACTION_RESULT_PROMPTS[n.action].map((key) => ({ field: `${n.action} result`, key })) : []),
  ],
  transfer: (n) => (n.prompt === undefined ? [] : [fixed('prompt', n.prompt)]),
  hangup: (n) => (n.prompt === undefined ? [] : [fixed('prompt', n.prompt)]),
  redirect: () => [],
};

// The casts pair each node with its own kind's function; TypeScript cannot correlate the union by itself.
export const edges = (node: FlowNode, flow: Flow): Edge[] =>
  (edgesOf[node.kind] as (n: FlowNode, f: Flow) => Edge[])(node, flow);
const promptUses = (node: FlowNode): PromptUse[] => (promptsOf[node.kind] as (n: FlowNode) => PromptUse[])(node);

/** Checks one parsed flow; returns it with the `gate` of each action filled in, plus the problems found. */
export function checkFlow(flow: Flow, file: string, opts: CheckOptions = {}): { flow: Flow; problems: FlowProblem[] } {
  const problems: FlowProblem[] = [];
  const add = (code: FlowProblemCode, message: string, node?: string) => problems.push({ code, file, node, message });

  checkLocales(flow, add);
  for (const field of ['start', 'home'] as const) {
    if (!flow.nodes[flow[field]]) add('dangling_target', `${field} "${flow[field]}" is not a node of this flow`);
  }
  if (flow.failClosed !== undefined) {
    const node = flow.nodes[flow.failClosed];
    if (!node) add('dangling_target', `failClosed "${flow.failClosed}" is not a node of this flow`);
    else if (node.kind !== 'transfer' || node.prompt === undefined) {
      add('fallback_not_transfer', `failClosed "${flow.failClosed}" must be a transfer node with a prompt`);
    }
  }
  for (const [id, node] of Object.entries(flow.nodes)) {
    checkTargets(flow, id, node, opts, add);
    checkPrompts(flow, id, node, add);
  }
  checkPlaceholdersAgree(flow, add);
  checkSayCycles(flow, add);
  // The graph checks assume every target exists; report dangling ones first.
  if (problems.some((p) => p.code === 'dangling_target')) return { flow, problems };

  checkGuarded(flow, [flow.start, ...(opts.extraEntries ?? [])], add);
  return { flow: withGates(flow, add), problems };
}

type Add = (code: FlowProblemCode, message: string, node?: string) => void;

function checkLocales(flow: Flow, add: Add): void {
  const declared = new Set(flow.locales);
  if (declared.size !== flow.locales.length) add('locales', 'a locale is listed twice in locales');
  for (const locale of Object.keys(flow.prompts)) {
    if (!declared.has(locale)) add('locales', `prompts for "${locale}", which is not in locales`);
  }
  for (const locale of declared) {
    if (!flow.prompts[locale]) add('missing_prompt', `no prompts for locale "${locale}"`);
  }
}

function checkTargets(flow: Flow, id: string, node: FlowNode, opts: CheckOptions, add: Add): void {
  for (const e of edges(node, flow)) {
    if (!e.implied && !flow.nodes[e.target]) add('dangling_target', `${e.field} → "${e.target}" is not a node of this flow`, id);
  }
  if (node.kind === 'verify') {
    const fallback = flow.nodes[node.onFail];
    if (fallback && fallback.kind !== 'transfer') {
      add('fallback_not_transfer', `onFail must be a transfer node (an unverified transfer), "${node.onFail}" is a ${fallback.kind}`, id);
    }
  }
  if (node.kind === 'action' && node.gate !== undefined) {
    const gate = flow.nodes[node.gate];
    if (gate && gate.kind !== 'verify') add('gate', `gate "${node.gate}" must be a verify node, it is a ${gate.kind}`, id);
  }
  if (node.kind === 'redirect') {
    const target = node.flow === flow.id ? flow : opts.flowById?.(node.flow);
    if (!target) {
      if (node.flow === flow.id || opts.flowById) add('dangling_target', `flow → "${node.flow}" is not a flow`, id);
    } else if (node.node !== undefined && !target.nodes[node.node]) {
      add('dangling_target', `node → "${node.node}" is not a node of flow "${node.flow}"`, id);
    }
  }
}

function checkPrompts(flow: Flow, id: string, node: FlowNode, add: Add): void {
  for (const use of promptUses(node)) {
    for (const locale of flow.locales) {
      const table = flow.prompts[locale];
      if (!table) continue; // reported once by checkLocales
      const text = table[use.key];
      if (text === undefined) {
        add('missing_prompt', `prompt "${use.key}" (${use.field}) is missing in ${locale}`, id);
        continue;
      }
      if (use.params === undefined) continue;
      const found = placeholdersOf(text);
      const missing = use.params.filter((p) => !found.has(p));
      const unknown = [...found].filter((p) => !use.params?.includes(p));
      if (missing.length > 0 || unknown.length > 0) {
        const want = use.params.length === 0 ? 'no placeholders' : use.params.map((p) => `{${p}}`).join(', ');
        add('prompt_placeholders', `prompt "${use.key}" in ${locale} must use ${want}, it uses ${show(found)}`, id);
      }
    }
  }
}

/** A translation must fill the same placeholders as the first locale, or one language says "{amount}". */
function checkPlaceholdersAgree(flow: Flow, add: Add): void {
  const [first, ...rest] = flow.locales;
  const base = first === undefined ? undefined : flow.prompts[first];
  if (!base) return;
  for (const locale of rest) {
    for (const [key, text] of Object.entries(flow.prompts[locale] ?? {})) {
      const theirs = base[key];
      if (theirs === undefined) continue;
      const a = placeholdersOf(theirs);
      const b = placeholdersOf(text);
      if (a.size !== b.size || [...a].some((p) => !b.has(p))) {
        add('prompt_placeholders', `prompt "${key}" uses ${show(b)} in ${locale} but ${show(a)} in ${first}`);
      }
    }
  }
}

const show = (s: ReadonlySet<string>) => (s.size === 0 ? 'none' : [...s].map((p) => `{${p}}`).join(', '));

/** Say nodes never wait, so a loop made only of them would spin without the caller ever being heard. */
function checkSayCycles(flow: Flow, add: Add): void {
  const reported = new Set<string>();
  for (const [id, node] of Object.entries(flow.nodes)) {
    if (node.kind !== 'say' || reported.has(id)) continue;
    const seen = new Set<string>([id]);
    let cur: FlowNode | undefined = flow.nodes[node.next];
    let curId = node.next;
    while (cur?.kind === 'say' && !seen.has(curId)) {
      seen.add(curId);
      curId = cur.next;
      cur = flow.nodes[curId];
    }
    if (cur?.kind === 'say' && curId === id) {
      for (const s of seen) reported.add(s);
      add('say_cycle', `say nodes loop back here without ever waiting for the caller (${[...seen].join(' → ')} → ${id})`, id);
    }
  }
}

/** Breadth-first search from `roots`; `throughVerify` = also follow verify nodes' unverified exits. */
function search(flow: Flow, roots: readonly string[], throughVerify: boolean): Map<string, string | undefined> {
  const parent = new Map<string, string | undefined>();
  const queue: string[] = [];
  for (const root of roots) {
    if (flow.nodes[root] && !parent.has(root)) {
      parent.set(root, undefined);
      queue.push(root);
    }
  }
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    const node = flow.nodes[id];
    if (!node || (node.kind === 'verify' && !throughVerify)) continue;
    for (const e of edges(node, flow)) {
      if (e.guarded || !flow.nodes[e.target] || parent.has(e.target)) continue;
      parent.set(e.target, id);
      queue.push(e.target);
    }
  }
  return parent;
}

function checkGuarded(flow: Flow, entries: readonly string[], add: Add): void {
  const parent = search(flow, entries, true);
  for (const id of parent.keys()) {
    const node = flow.nodes[id];
    if (node?.kind !== 'action' || !isProtectedAction(node.action)) continue;
    const path: string[] = [];
    for (let at: string | undefined = id; at !== undefined; at = parent.get(at)) path.unshift(at);
    add('unguarded_action', `protected action "${node.action}" is reachable without passing a verify node (${path.join(' → ')})`, id);
  }
}

/** Fills each action's `gate` (where `action.unverified` sends the caller) from the verify nodes that lead to it. */
function withGates(flow: Flow, add: Add): Flow {
  const gatesOf = new Map<string, string[]>();
  for (const [vid, v] of Object.entries(flow.nodes)) {
    if (v.kind !== 'verify') continue;
    for (const id of search(flow, [v.next], false).keys()) {
      if (flow.nodes[id]?.kind === 'action') gatesOf.set(id, [...(gatesOf.get(id) ?? []), vid]);
    }
  }
  const nodes: Record<string, FlowNode> = {};
  for (const [id, node] of Object.entries(flow.nodes)) {
    nodes[id] = node;
    if (node.kind !== 'action') continue;
    const gates = gatesOf.get(id) ?? [];
    if (node.gate !== undefined) {
      if (flow.nodes[node.gate]?.kind === 'verify' && !gates.includes(node.gate)) {
        add('gate', `gate "${node.gate}" does not lead to this action`, id);
      }
    } else if (gates.length === 1 && gates[0] !== undefined) {
      nodes[id] = { ...node, gate: gates[0] };
    } else if (gates.length > 1 && isProtectedAction(node.action)) {
      add('gate', `several verify nodes lead here (${gates.join(', ')}): set gate to the one to go back through`, id);
    }
  }
  return { ...flow, nodes };
}
