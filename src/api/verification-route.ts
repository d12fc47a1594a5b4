import type { Router, RequestHandler } from 'express';
import type { Sessions } from '../verification/sessions.js';
import type { RecentlyVerifiedCalls } from '../verification/recently-verified.js';
import { callTag } from '../store/keys.js';
import { clientOf } from './auth.js';
import type { ApiLimiter } from './rate-limit.js';
import { callIdParams, type CallVerification } from './schemas.js';
import { channelOf } from './session-routes.js';

export interface VerificationRouteDeps {
  sessions: Sessions;
  recentlyVerified: RecentlyVerifiedCalls;
  limiter: ApiLimiter;
  /** Basic auth, then the per-client limit. */
  authenticated: RequestHandler[];
}

/**
 * `GET /calls/{callId}/verification` (DESIGN A5), for agent desktops: is the call verified right
 * now, and was it marked recently verified by a late confirmation (A4)?
 *
 * What a client may see: a call whose session another API client opened is not its business, and
 * is answered exactly like a call nobody has seen (`verified: false`, no mark), so the answer never
 * tells another client's call ids apart from unknown ones. Calls the app handles itself (Twilio)
 * belong to no API client: any API client may read them (the agent desktop of the call-back).
 */
export function mountVerificationRoute(router: Router, deps: VerificationRouteDeps): void {
  const { sessions, recentlyVerified } = deps;
  const byCallParam = deps.limiter.perCall((req) => callTag(String(req.params.callId)));
  const visible = (channel: string | undefined, clientId: string) => !channel?.startsWith('api:') || channel === channelOf(clientId);

  router.get('/calls/:callId/verification', ...deps.authenticated, byCallParam, async (req, res) => {
    const { callId } = callIdParams.parse(req.params);
    const clientId = clientOf(res);
    const [state, mark] = await Promise.all([sessions.verification(callId), recentlyVerified.of(callId)]);
    // Verified now = the test a protected action makes (A7): a confirmed session whose call-bound token was issued and still lives.
    let verified = state.verified !== null && state.tokenJti !== null && !state.ended;
    if (verified && state.verified) {
      const session = await sessions.get(state.verified.sessionId);
      verified = session !== null && visible(session.channel, clientId);
    }
    const answer: CallVerification = { callId, verified };
    if (mark && visible(mark.channel, clientId)) {
      answer.recentlyVerified = {
        at: new Date(mark.at).toISOString(),
        expiresAt: new Date(mark.expiresAt).toISOString(),
        customerId: mark.customerId,
        ...(mark.caseId !== undefined ? { caseId: mark.caseId } : {}),
      };
    }
    res.json(answer);
  });
}
