import type { NodeOf } from '../../flows/schema.js';
import { spokenDigits } from '../prompts.js';
import type { CallState, EffectResult, SessionStatus } from '../types.js';
import { effect, gather, goto, unexpected, wait, type Handler, type NodeContext, type Turn } from './context.js';

/**
 * The verify gate (DESIGN A3, B2). Opens the call's session, speaks the DID, then loops: each turn the
 * caller presses 1 (entered), 9 (repeat) or 0 (cancel), or stays silent, and the session is re-checked,
 * so a confirmation whose live-call intercept failed still routes the caller within one turn.
 *
 * The DID appears only in the outputs of the step that speaks it; CallState keeps the session id,
 * never the code.
 *
 * Phases while the node is current:
 *   opening    verify.open sent
 *   waiting    at rest: gather for 1 / 9 / 0
 *   checking   verify.status sent
 *   repeating  verify.repeat sent
 *   reissuing  verify.reissue sent (the code expired)
 *   canceling  verify.cancel sent because the caller pressed 0
 *   abandoning verify.cancel sent because the loop ran out: whatever comes back, go to the fallback
 */

type Ctx = NodeContext<NodeOf<'verify'>>;
type Bookkeeping = NonNullable<CallState['verify']>;

export const verify: Handler<NodeOf<'verify'>> = {
  enter: (ctx) => effect({ ...ctx.state, phase: 'opening', verify: { reissues: 0, loops: 0 } }, { kind: 'verify.open' }),
  input(ctx, input) {
    switch (input.kind) {
      case 'digits':
        return ctx.state.phase === 'waiting' ? onKey(ctx, input.digits) : unexpected(ctx, input);
      case 'no_input':
      case 'resume':
        // Silence, or the backend redirected the call after a confirmation: either way, ask the session.
        return ctx.state.phase === 'waiting' ? check(ctx.state) : unexpected(ctx, input);
      case 'effect':
        return onResult(ctx, input.result);
    }
  },
};

const books = (state: CallState): Bookkeeping => state.verify ?? { reissues: 0, loops: 0 };

const check = (state: CallState): Turn => effect({ ...state, phase: 'checking' }, { kind: 'verify.status' });

function onKey(ctx: Ctx, digits: string): Turn {
  switch (digits) {
    case '1':
      return check(ctx.state);
    case '9':
      return nextLoop(ctx, (state) => effect({ ...state, phase: 'repeating' }, { kind: 'verify.repeat' }));
    case '0':
      return effect({ ...ctx.state, phase: 'canceling' }, { kind: 'verify.cancel', reason: 'caller' });
    default:
      return nextLoop(ctx, (state) => listen(ctx, state, ctx.node.prompts.invalid, ctx.node.prompts.options));
  }
}

function onResult(ctx: Ctx, result: EffectResult): Turn {
  const { state } = ctx;
  switch (result.kind) {
    case 'verify.already_verified':
      // The call-bound token still lives: a second protected action needs no second code (A3).
      return goto({ ...state, verified: true }, ctx.node.next);
    case 'verify.opened':
      // A new session means the call is not verified now, whatever an earlier gate said.
      return speakCode(ctx, { ...state, verified: false, verify: { ...books(state), sessionId: result.sessionId } }, result.did);
    case 'verify.did':
      return speakCode(ctx, state, result.did);
    case 'verify.reissued': {
      // A new code restarts the wait loop; the reissue count is what bounds the gate.
      const v = books(state);
      const next = { ...state, verify: { sessionId: result.sessionId, reissues: v.reissues + 1, loops: 0 } };
      return speakCode(ctx, next, result.did, ctx.node.prompts.reissued);
    }
    case 'verify.status':
      return onStatus(ctx, result.status);
    case 'verify.canceled':
      return state.phase === 'canceling' ? canceled(ctx) : fallback(ctx);
    case 'verify.unavailable':
      // Fail closed (B3): nothing protected without a session, the caller goes to an agent unverified.
      return fallback(ctx);
    default:
      return unexpected(ctx, { kind: 'effect', result });
  }
}

function onStatus(ctx: Ctx, status: SessionStatus): Turn {
  const { phase } = ctx.state;
  if (status === 'confirmed') {
    return goto({ ...ctx.state, verified: true }, ctx.node.next, [ctx.say(ctx.node.prompts.confirmed)]);
  }
  if (status === 'call_ended' || phase === 'abandoning') return fallback(ctx);
  // The caller asked to cancel; a session that is no longer pending ends up the same way for them.
  if (phase === 'canceling') return canceled(ctx);
  switch (status) {
    case 'pending':
      return nextLoop(ctx, (state) => listen(ctx, state, ctx.node.prompts.waiting, ctx.node.prompts.options));
    case 'expired':
      return books(ctx.state).reissues < ctx.node.maxReissues
        ? effect({ ...ctx.state, phase: 'reissuing' }, { kind: 'verify.reissue' })
        : fallback(ctx);
    case 'canceled':
      return fallback(ctx);
  }
}

/** Counts one more wait-loop turn; past `maxLoops` the session is canceled and the caller goes to the fallback. */
function nextLoop(ctx: Ctx, then: (state: CallState) => Turn): Turn {
  const v = books(ctx.state);
  const loops = v.loops + 1;
  if (loops > ctx.node.maxLoops) {
    // Cancel so a late confirmation cannot pull the call out of the agent queue.
    return effect({ ...ctx.state, phase: 'abandoning' }, { kind: 'verify.cancel', reason: 'timeout' });
  }
  return then({ ...ctx.state, verify: { ...v, loops } });
}

function speakCode(ctx: Ctx, state: CallState, did: string, key = ctx.node.prompts.code): Turn {
  // A3: the whole code in one say whose sentence calls it a code, digit by digit.
  return listen(ctx, state, key, undefined, { code: spokenDigits(did) });
}

function listen(ctx: Ctx, state: CallState, first: string, second?: string, params?: Record<string, string>): Turn {
  const outputs = [ctx.say(first, params), ...(second === undefined ? [] : [ctx.say(second)])];
  return wait({ ...state, phase: 'waiting' }, gather(ctx.node.gatherTimeoutSeconds), outputs);
}

const canceled = (ctx: Ctx): Turn =>
  goto(ctx.state, ctx.node.onCancel ?? ctx.flow.home, [ctx.say(ctx.node.prompts.canceled)]);

/** The unverified transfer (validated at load to be a transfer node). */
const fallback = (ctx: Ctx): Turn => goto({ ...ctx.state, verified: false }, ctx.node.onFail);
