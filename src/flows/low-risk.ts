import { edges } from './graph.js';
import { isProtectedAction, type Flow, type FlowNode, type Flows } from './schema.js';

/**
 * DESIGN A10: the low-risk part of the flows, which `FAIL_MODE=open-low-risk` keeps serving while the
 * store is away. A node is low-risk when no protected action can be reached from it without passing a
 * verify gate (taking its verified branch), and it is neither a gate nor an action itself: both run on
 * the store (a session; the verified customer), so during an outage a caller who reaches one goes to
 * the agent queue instead. For the shipped flow that is the welcome, the main menu and its transfer
 * and goodbye branches.
 *
 * "Reached" follows every edge the validator follows (graph.ts) except a verify node's verified
 * branch, and a redirect into another flow continues there, so a flow that only redirects to a risky
 * node is risky too. Computed once per loaded set of flows (cached on it) and shown by
 * `npm run flows -- check` and the diagram.
 */
export type LowRiskNodes = ReadonlyMap<string, ReadonlySet<string>>;

const key = (flowId: string, node: string) => `${flowId}\u0000${node}`;

/** Where a node can go next without passing a gate, as flow-qualified keys. */
function nextOf(flow: Flow, node: FlowNode, flowById: (id: string) => Flow | undefined): string[] {
  const out = edges(node, flow)
    .filter((e) => !e.guarded)
    .map((e) => key(flow.id, e.target));
  if (node.kind === 'redirect') {
    const target = node.flow === flow.id ? flow : flowById(node.flow);
    const entry = node.node ?? target?.start;
    if (target && entry !== undefined) out.push(key(target.id, entry));
  }
  return out;
}

/** The low-risk node ids of each flow of `flows` (every flow has an entry, maybe empty). */
export function computeLowRisk(flows: Pick<Flows, 'byId'>): LowRiskNodes {
  const flowById = (id: string) => flows.byId.get(id);
  // Reverse edges, so "can reach a protected action" spreads back from the actions in one pass.
  const cameFrom = new Map<string, string[]>();
  const risky = new Set<string>();
  const queue: string[] = [];
  for (const flow of flows.byId.values()) {
    for (const [id, node] of Object.entries(flow.nodes)) {
      const here = key(flow.id, id);
      for (const next of nextOf(flow, node, flowById)) cameFrom.set(next, [...(cameFrom.get(next) ?? []), here]);
      if (node.kind === 'action' && isProtectedAction(node.action)) {
        risky.add(here);
        queue.push(here);
      }
    }
  }
  for (let at = queue.shift(); at !== undefined; at = queue.shift()) {
    for (const from of cameFrom.get(at) ?? []) {
      if (risky.has(from)) continue;
      risky.add(from);
      queue.push(from);
    }
  }
  const result = new Map<string, Set<string>>();
  for (const flow of flows.byId.values()) {
    const ids = new Set<string>();
    for (const [id, node] of Object.entries(flow.nodes)) {
      if (node.kind !== 'verify' && node.kind !== 'action' && !risky.has(key(flow.id, id))) ids.add(id);
    }
    result.set(flow.id, ids);
  }
  return result;
}

const cache = new WeakMap<object, LowRiskNodes>();

/** `computeLowRisk`, once per loaded set of flows (a reload in development is a new set). */
export function lowRiskOf(flows: Pick<Flows, 'byId'>): LowRiskNodes {
  let nodes = cache.get(flows.byId);
  if (!nodes) {
    nodes = computeLowRisk(flows);
    cache.set(flows.byId, nodes);
  }
  return nodes;
}

export function isLowRisk(nodes: LowRiskNodes, flowId: string, node: string): boolean {
  return nodes.get(flowId)?.has(node) === true;
}
