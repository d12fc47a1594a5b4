import type { NodeOf } from '../../flows/schema.js';
import { again, type Handler, type NodeContext, type Turn } from './context.js';

// The engine resolves the target flow (and its start node when `node` is not given) and its locale.
const enter = (ctx: NodeContext<NodeOf<'redirect'>>): Turn => ({
  outputs: [],
  state: ctx.state,
  move: { kind: 'goto', flowId: ctx.node.flow, node: ctx.node.node },
});

/** Continues in another flow (or another node of this one). */
export const redirect: Handler<NodeOf<'redirect'>> = { enter, input: again(enter) };
