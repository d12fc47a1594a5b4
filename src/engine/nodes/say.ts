import type { NodeOf } from '../../flows/schema.js';
import { again, goto, type Handler, type NodeContext, type Turn } from './context.js';

const enter = (ctx: NodeContext<NodeOf<'say'>>): Turn => goto(ctx.state, ctx.node.next, [ctx.say(ctx.node.prompt)]);

/** Speaks one prompt and moves on without waiting. */
export const say: Handler<NodeOf<'say'>> = { enter, input: again(enter) };
