import type { NodeOf } from '../../flows/schema.js';
import { isOpen } from '../opening-hours.js';
import { effect, goto, unexpected, type Handler, type NodeContext, type Turn } from './context.js';

type Ctx = NodeContext<NodeOf<'hours'>>;

const enter = (ctx: Ctx): Turn => effect(ctx.state, { kind: 'clock.now' });

/** Branches on the opening hours: asks the backend for the time, then goes to `open` or `closed`. */
export const hours: Handler<NodeOf<'hours'>> = {
  enter,
  input(ctx, input) {
    if (input.kind === 'effect' && input.result.kind === 'clock') {
      return goto(ctx.state, isOpen(ctx.node, input.result.now) ? ctx.node.open : ctx.node.closed);
    }
    if (input.kind === 'effect') return unexpected(ctx, input);
    // A late webhook while here (nothing waits at an hours node): ask the time again, it is harmless.
    return enter(ctx);
  },
};
