import type { Request } from 'express';
import type { Audit } from '../../audit/audit.js';
import type { Metrics } from '../../audit/metrics.js';
import type { CallState, EngineInput } from '../../engine/types.js';
import type { DegradedMode, DegradedReason } from '../../ivr/degraded.js';
import { failClosedTwiml, renderTwiml } from './twiml.js';

/**
 * The Twilio side of degraded mode (DESIGN A10, FAIL_MODE=open-low-risk): the call's low-risk state
 * rides in the `action` URLs we hand Twilio (`&d=<sealed>`, next to `t`), is checked right after the
 * signature, and answers the turns the store cannot. ivr/degraded.ts decides what the caller hears;
 * this file turns URLs into states and turns into TwiML.
 */

/** What a request's URL carries: nothing, a state we sealed for this call, or something we did not. */
export type Carried = { kind: 'none' } | { kind: 'state'; state: CallState } | { kind: 'refused' };

const NONE: Carried = { kind: 'none' };
const TURN = /^\d{1,9}$/;
/** The routes our carrying URLs point at; `d` anywhere else is not one we made. */
const CARRYING_ROUTES = new Set(['/step', '/resume']);

export interface StorelessDeps {
  mode: DegradedMode;
  audit: Pick<Audit, 'recordDirect' | 'outcomeOf'>;
  metrics: Pick<Metrics, 'failClosed'>;
  /** The step URL of a turn (webhooks.ts `twilioUrls`). */
  stepUrl: (turn: number) => string;
  failClosed: { text: string; locale: string; queue: string };
}

export function createStoreless(deps: StorelessDeps) {
  const { mode, audit } = deps;

  /** The `action` URL of a turn that waits: it carries the state when the call is on a low-risk node. */
  const actionUrl = (callId: string, state: CallState): string => {
    const url = deps.stepUrl(state.turn);
    return mode.carries(state) ? `${url}&d=${mode.state.seal(callId, '/step', state)}` : url;
  };

  return {
    actionUrl,
    /** The state `?d=` carries, checked against the CallSid, the route and `t` (DESIGN A10: bound to the call). */
    carried(req: Request, callId: string): Carried {
      const d = req.query.d;
      if (d === undefined) return NONE;
      const t = req.query.t;
      if (typeof d !== 'string' || typeof t !== 'string' || !TURN.test(t) || !CARRYING_ROUTES.has(req.path)) return { kind: 'refused' };
      const state = mode.state.open(callId, req.path, Number(t), d);
      return state ? { kind: 'state', state } : { kind: 'refused' };
    },

    /**
     * A caller's turn the store failed: served from the carried state (or, for a new call, from the
     * flow's start), as TwiML. `budgetLeftMs` is what the turn's backends' share still has: none left
     * means the store took the whole of it, and the caller gets the short apology at once.
     */
    voice(callId: string, carried: Carried, input: EngineInput, reason: DegradedReason, budgetLeftMs: number): string {
      if (budgetLeftMs <= 0) {
        deps.metrics.failClosed.inc();
        audit.recordDirect('fail_closed', { callId, reason: 'turn_budget_spent' });
        return failClosedTwiml(deps.failClosed.text, deps.failClosed.locale, deps.failClosed.queue);
      }
      const from = carried.kind === 'state' ? carried.state : null;
      const turn = mode.turn(callId, from, input, reason);
      if (turn.wait.kind === 'transfer') audit.recordDirect('transfer', { callId, queue: turn.wait.queue, verified: false, reason });
      return renderTwiml(turn.outputs, turn.wait, actionUrl(callId, turn.state));
    },

    /** A final status callback the store failed: the call's end goes to the trail directly (A10). */
    async callEnded(callId: string, params: Record<string, string>, reason: DegradedReason): Promise<void> {
      const seconds = Number(params.CallDuration);
      audit.recordDirect('call_ended', {
        callId,
        outcome: await audit.outcomeOf(callId, false),
        ...(Number.isInteger(seconds) && seconds >= 0 ? { durationMs: seconds * 1000 } : {}),
        callStatus: (params.CallStatus ?? '').replace(/-/g, '_'),
        reason,
      });
    },
  };
}

export type Storeless = ReturnType<typeof createStoreless>;
