import type { NodeOf } from '../../flows/schema.js';
import { again, wait, type Handler, type NodeContext, type Turn } from './context.js';

const enter = (ctx: NodeContext<NodeOf<'transfer'>>): Turn =>
  wait(
    ctx.state,
    // Agents see whether the caller passed a gate in this call; a failed gate has already cleared the flag.
    { kind: 'transfer', queue: ctx.node.queue, verified: ctx.state.verified === true },
    ctx.node.prompt === undefined ? [] : [ctx.say(ctx.node.prompt)],
  );

/** Hands the call to an agent queue; the turn (and the IVR's part of the call) ends here. */
export const transfer: Handler<NodeOf<'transfer'>> = { enter, input: again(enter) };
