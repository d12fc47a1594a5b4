import type { NodeOf } from '../../flows/schema.js';
import { again, wait, type Handler, type NodeContext, type Turn } from './context.js';

const enter = (ctx: NodeContext<NodeOf<'hangup'>>): Turn =>
  wait(ctx.state, { kind: 'hangup' }, ctx.node.prompt === undefined ? [] : [ctx.say(ctx.node.prompt)]);

/** Says goodbye (optionally) and ends the call. */
export const hangup: Handler<NodeOf<'hangup'>> = { enter, input: again(enter) };
