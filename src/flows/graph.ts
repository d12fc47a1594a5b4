import type { Flow, FlowNode, Kind, NodeOf } from './schema.js';
import type { Add } from './problems.js';

/**
 * A flow as a graph: the edges each node kind declares, a breadth-first search over them, and the checks
 * on the graph's shape alone: every target exists, fallbacks are transfers, no loop of say nodes.
 */

export interface Edge {
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
  hours: (n) => [
    { field: 'open', target: n.open },
    { field: 'closed', target: n.closed },
  ],
};

// The cast pairs each node with its own kind's function; TypeScript cannot correlate the union by itself.
export const edges = (node: FlowNode, flow: Flow): Edge[] =>
  (edgesOf[node.kind] as (n: FlowNode, f: Flow) => Edge[])(node, flow);

/** Breadth-first search from `roots`; `throughVerify` = also follow verify nodes' unverified exits. */
export function search(flow: Flow, roots: readonly string[], throughVerify: boolean): Map<string, string | undefined> {
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

/** The flow-level targets: `start` and `home` exist, and `failClosed` is a transfer that can apologise. */
export function checkFlowTargets(flow: Flow, add: Add): void {
  for (const field of ['start', 'home'] as const) {
    if (!flow.nodes[flow[field]]) add('dangling_target', `${field} "${flow[field]}" is not a node of this flow`, undefined, [field]);
  }
  if (flow.failClosed !== undefined) {
    const node = flow.nodes[flow.failClosed];
    if (!node) add('dangling_target', `failClosed "${flow.failClosed}" is not a node of this flow`, undefined, ['failClosed']);
    else if (node.kind !== 'transfer' || node.prompt === undefined) {
      add('fallback_not_transfer', `failClosed "${flow.failClosed}" must be a transfer node with a prompt`, undefined, ['failClosed'], 'point failClosed at a transfer node that has a prompt (the apology)');
    }
  }
}

/** One node's targets exist and are of the kind their field needs; `flowById` resolves other flows' redirects. */
export function checkTargets(
  flow: Flow,
  id: string,
  node: FlowNode,
  flowById: ((id: string) => Flow | undefined) | undefined,
  add: Add,
  mayExist: (flowId: string) => boolean = () => false,
): void {
  const at = (field: string) => ['nodes', id, ...field.split('.')];
  for (const e of edges(node, flow)) {
    if (!e.implied && !flow.nodes[e.target]) add('dangling_target', `${e.field} → "${e.target}" is not a node of this flow`, id, at(e.field));
  }
  if (node.kind === 'verify') {
    const fallback = flow.nodes[node.onFail];
    if (fallback && fallback.kind !== 'transfer') {
      add('fallback_not_transfer', `onFail must be a transfer node (an unverified transfer), "${node.onFail}" is a ${fallback.kind}`, id, at('onFail'));
    }
  }
  if (node.kind === 'action' && node.gate !== undefined) {
    const gate = flow.nodes[node.gate];
    if (gate && gate.kind !== 'verify') add('gate', `gate "${node.gate}" must be a verify node, it is a ${gate.kind}`, id, at('gate'));
  }
  if (node.kind === 'redirect') {
    const target = node.flow === flow.id ? flow : flowById?.(node.flow);
    if (!target) {
      // Without flowById (one flow validated alone) a redirect to another flow cannot be checked; a flow
      // whose file could not be read may be the target, and its own problem says more (no cascade).
      if (node.flow === flow.id || (flowById && !mayExist(node.flow))) add('dangling_target', `flow → "${node.flow}" is not a flow`, id, at('flow'), 'correct the flow id, or add a flow file with that id');
    } else if (node.node !== undefined && !target.nodes[node.node]) {
      add('dangling_target', `node → "${node.node}" is not a node of flow "${node.flow}"`, id, at('node'));
    }
  }
}

/** Nodes that move on without waiting for the caller, and where they can go. */
const instantTargets = (node: FlowNode | undefined): string[] | undefined => {
  if (node?.kind === 'say') return [node.next];
  if (node?.kind === 'hours') return [node.open, node.closed];
  return undefined;
};

/**
 * Say and hours nodes never wait, so a loop made only of them would spin without the caller ever being
 * heard. Reported once per loop, at the first of its nodes in file order, with the loop's path.
 */
export function checkSayCycles(flow: Flow, add: Add): void {
  const reported = new Set<string>();
  const loopFrom = (id: string): string[] | undefined => {
    // Depth-first over instant nodes only: a path back to `id` is a loop.
    const stack: { at: string; path: string[] }[] = [{ at: id, path: [id] }];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const { at, path } = stack.pop() as { at: string; path: string[] };
      for (const next of instantTargets(flow.nodes[at]) ?? []) {
        if (next === id) return path;
        if (seen.has(next) || instantTargets(flow.nodes[next]) === undefined) continue;
        seen.add(next);
        stack.push({ at: next, path: [...path, next] });
      }
    }
    return undefined;
  };
  for (const id of Object.keys(flow.nodes)) {
    if (reported.has(id) || instantTargets(flow.nodes[id]) === undefined) continue;
    const loop = loopFrom(id);
    if (!loop) continue;
    for (const s of loop) reported.add(s);
    const kinds = new Set(loop.map((n) => flow.nodes[n]?.kind));
    add('say_cycle', `${kinds.has('hours') ? 'say and hours' : 'say'} nodes loop back here without ever waiting for the caller (${loop.join(' → ')} → ${id})`, id);
  }
}
