import { search } from './graph.js';
import type { Add } from './problems.js';
import { isProtectedAction, type Flow, type FlowNode } from './schema.js';

/**
 * The verify gate (DESIGN A3): no protected action can be reached without passing a verify node, and each
 * action learns its `gate`, the verify node `action.unverified` sends the caller back through.
 * Both assume every target exists (checkFlow runs them only when none dangles).
 */

/** Reports each protected action reachable from `entries` without crossing a verified branch, with the path. */
export function checkGuarded(flow: Flow, entries: readonly string[], add: Add): void {
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
export function withGates(flow: Flow, add: Add): Flow {
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
        add('gate', `gate "${node.gate}" does not lead to this action`, id, ['nodes', id, 'gate'], gates.length > 0 ? `set gate: to ${gates.join(' or ')}` : 'set gate: to the verify node in front of this action, or remove it');
      }
    } else if (gates.length === 1 && gates[0] !== undefined) {
      nodes[id] = { ...node, gate: gates[0] };
    } else if (gates.length > 1 && isProtectedAction(node.action)) {
      // The fix is on this action node, not on the verify nodes: name the field and the choices.
      add(
        'gate',
        `several verify nodes lead here (${gates.join(', ')}), so the one a caller goes back through when the call is no longer verified is not known`,
        id,
        ['nodes', id],
        `add "gate: ${gates[0]}" (or ${gates.slice(1).join(', ')}) to node "${id}"`,
      );
    }
  }
  return { ...flow, nodes };
}
