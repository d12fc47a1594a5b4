import type { Audit } from '../audit/audit.js';
import type { Metrics } from '../audit/metrics.js';
import type { Logger } from '../log/logger.js';
import type { LiveCallControl } from '../telephony/live-call.js';
import type { RecentlyVerifiedCalls } from './recently-verified.js';
import type { Sessions, SessionView } from './sessions.js';

export interface InterceptDeps {
  sessions: Sessions;
  /** Live-call control per provider; a provider without one (API clients that poll) is not redirected. */
  liveCalls: Partial<Record<string, LiveCallControl>>;
  /** Absolute URL the live call is sent to once verified. */
  verifiedUrl: (session: SessionView) => string;
  lateConfirmationPolicy: 'ignore' | 'recently-verified';
  recentlyVerified: RecentlyVerifiedCalls;
  audit: Audit;
  metrics: Metrics;
  logger: Logger;
}

/**
 * Moves the live call to the verified branch right after a confirmation (DESIGN B2). Called only by
 * the one request whose confirm script moved the session to `confirmed` (that script is the claim),
 * so retried or concurrent confirmations never redirect twice. If the provider says the
 * call is gone, the session stays confirmed (terminal), the call is ended (its token revoked) and
 * the late-confirmation policy applies. If the redirect keeps failing, the wait loop still routes the
 * caller on its next turn because every turn re-checks the session.
 */
export function createIntercept(deps: InterceptDeps) {
  const { sessions, audit, metrics } = deps;
  /** `confirmedAt` is this instance's `performance.now()` when the confirm script answered: one clock for the interval. */
  return async function intercept(session: SessionView, confirmedAt = performance.now()): Promise<'redirected' | 'not_needed' | 'gone' | 'failed'> {
    const control = deps.liveCalls[session.provider];
    if (!control) return 'not_needed';
    const ids = { sessionId: session.sessionId };
    const outcome = await control.redirect(session.callId, deps.verifiedUrl(session));
    if (outcome.kind === 'redirected') {
      const ms = Math.round(performance.now() - confirmedAt);
      metrics.confirmToRedirect.observe(ms);
      await audit.record('intercept_success', { callId: session.callId, ...ids, confirmToRedirectMs: ms });
      return 'redirected';
    }
    metrics.interceptFailures.inc({ reason: outcome.kind === 'gone' ? 'call_gone' : outcome.reason });
    if (outcome.kind === 'gone') {
      await sessions.endCall(session.callId, session.provider);
      await audit.record('intercept_failed', { callId: session.callId, ...ids, reason: 'call_gone' });
      // The customer did confirm, just after the call was gone: with recently-verified, the call is
      // marked for the agent of the call-back (DESIGN A4); the session stays confirmed (terminal).
      const marked = deps.lateConfirmationPolicy === 'recently-verified' && (await deps.recentlyVerified.markConfirmed(session.sessionId));
      await audit.record('late_confirmation', {
        callId: session.callId,
        ...ids,
        policy: policyCode(deps.lateConfirmationPolicy),
        result: marked ? 'recently_verified' : 'ignored',
        via: 'intercept',
      });
      await audit.record('call_ended', { callId: session.callId, ...ids, outcome: await audit.outcomeOf(session.callId, false), reason: 'call_gone' });
      return 'gone';
    }
    deps.logger.warn({ callId: session.callId, sessionId: session.sessionId, reason: outcome.reason }, 'live-call redirect failed; the wait loop will route the caller');
    await audit.record('intercept_failed', { callId: session.callId, ...ids, reason: outcome.reason });
    return 'failed';
  };
}

export type Intercept = ReturnType<typeof createIntercept>;

/** The policy as an audit code (`recently_verified`): event codes are snake_case. */
export const policyCode = (policy: 'ignore' | 'recently-verified') => (policy === 'recently-verified' ? 'recently_verified' : 'ignore');
