import type { Audit } from '../audit/audit.js';
import type { Metrics } from '../audit/metrics.js';
import type { CallState, Effect, EffectResult } from '../engine/types.js';
import type { Clock } from '../shared/clock.js';
import type { Sessions } from '../verification/sessions.js';

export interface CallRef {
  callId: string;
  provider: string;
  /** The turn's budget (turn-budget.ts): aborts when the backends' share of it is spent. */
  signal?: AbortSignal;
}

/** Runs a protected action for a verified call (balance, statement SMS); provided by the banking feature. */
export type ActionRunner = (
  call: CallRef & { customerId: string; sessionId: string; locale: string },
  effect: Extract<Effect, { kind: 'action' | 'accounts.list' | 'statements.list' }>,
) => Promise<EffectResult>;

/** How many times an expired session may be replaced within one call (A5 `maxReissues`). */
export const MAX_REISSUES = 1;

/**
 * Runs the engine's effects against the verification service and the actions. The only place the
 * IVR touches sessions, so every verification step of a call leaves its audit event here.
 */
export function createEffects(deps: { sessions: Sessions; audit: Audit; metrics: Metrics; actions: ActionRunner; clock: Clock }) {
  const { sessions, audit, metrics } = deps;

  const currentSession = async (call: CallRef, state: CallState) => state.verify?.sessionId ?? (await sessions.currentOf(call.callId));

  return async function run(call: CallRef, state: CallState, effect: Effect): Promise<EffectResult> {
    switch (effect.kind) {
      case 'verify.open': {
        if (await sessions.verifiedCustomer(call.callId)) return { kind: 'verify.already_verified' };
        const opened = await sessions.open({ ...call, channel: call.provider });
        if (opened.kind !== 'created' && opened.kind !== 'existing') return { kind: 'verify.unavailable' };
        const ids = { sessionId: opened.session.sessionId };
        if (opened.kind === 'created') {
          metrics.sessionsCreated.inc({ channel: call.provider });
          await audit.record('session_created', { callId: call.callId, ...ids, expiresAt: new Date(opened.session.expiresAt).toISOString() });
        }
        await audit.record('did_issued', { callId: call.callId, ...ids });
        return { kind: 'verify.opened', did: opened.did, sessionId: opened.session.sessionId };
      }
      case 'verify.status': {
        const sessionId = await currentSession(call, state);
        const session = sessionId ? await sessions.get(sessionId) : null;
        if (!session) return { kind: 'verify.unavailable' };
        await audit.record('loop_iteration', { callId: call.callId, sessionId: session.sessionId, status: session.status, loop: state.verify?.loops ?? 0 });
        if (session.status === 'expired') {
          metrics.sessionOutcomes.inc({ status: 'expired' });
          await audit.record('timeout', { callId: call.callId, sessionId: session.sessionId });
        }
        return { kind: 'verify.status', status: session.status };
      }
      case 'verify.repeat': {
        const sessionId = await currentSession(call, state);
        const did = sessionId ? await sessions.repeatDid(sessionId) : null;
        if (!sessionId || !did) {
          const session = sessionId ? await sessions.get(sessionId) : null;
          return session ? { kind: 'verify.status', status: session.status } : { kind: 'verify.unavailable' };
        }
        await audit.record('did_repeated', { callId: call.callId, sessionId });
        return { kind: 'verify.did', did };
      }
      case 'verify.reissue': {
        const reissued = await sessions.reissue({ ...call, channel: call.provider }, MAX_REISSUES);
        if (reissued.kind === 'existing') return { kind: 'verify.opened', did: reissued.did, sessionId: reissued.session.sessionId };
        if (reissued.kind !== 'created') return { kind: 'verify.unavailable' };
        const ids = { sessionId: reissued.session.sessionId };
        metrics.sessionsCreated.inc({ channel: call.provider });
        await audit.record('reissued', { callId: call.callId, ...ids });
        await audit.record('session_created', { callId: call.callId, ...ids, expiresAt: new Date(reissued.session.expiresAt).toISOString() });
        await audit.record('did_issued', { callId: call.callId, ...ids });
        return { kind: 'verify.reissued', did: reissued.did, sessionId: reissued.session.sessionId };
      }
      case 'verify.cancel': {
        const sessionId = await currentSession(call, state);
        if (sessionId && (await sessions.cancel(sessionId)) === 'canceled') {
          metrics.sessionOutcomes.inc({ status: 'canceled' });
          await audit.record('canceled', { callId: call.callId, sessionId });
        }
        return { kind: 'verify.canceled' };
      }
      case 'locale.select':
        // A9 language_selected: the call speaks this locale from now on (code, balances, statement SMS).
        await audit.record('language_selected', { callId: call.callId, locale: effect.locale, via: effect.via });
        return { kind: 'locale.selected' };
      case 'clock.now':
        // The injected clock (tests move it), so `hours` nodes are tested without waiting.
        return { kind: 'clock', now: deps.clock.now() };
      case 'action':
      case 'statements.list':
      case 'accounts.list': {
        // Every protected action re-checks the verified session; the action itself checks its token.
        const verified = await sessions.verifiedCustomer(call.callId);
        if (!verified) return { kind: 'action.unverified' };
        return deps.actions({ ...call, customerId: verified.customerId, sessionId: verified.sessionId, locale: state.locale }, effect);
      }
    }
  };
}

export type Effects = ReturnType<typeof createEffects>;
