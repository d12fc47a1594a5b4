import type { Audit } from '../audit/audit.js';
import type { Metrics } from '../audit/metrics.js';
import type { Logger } from '../log/logger.js';
import { AppError } from '../shared/errors.js';
import { InvalidConfirmationError, type ConfirmationVerifier } from './confirmation-jws.js';
import type { Intercept } from './intercept.js';
import type { JtiGuard } from './replay.js';
import type { Lockout } from './lockout.js';
import type { Sessions, SessionView } from './sessions.js';

/** Mints the call-bound token (A7) for a just-confirmed session. */
export type MintCallToken = (input: { customerId: string; callId: string; sessionId: string }) => Promise<{ token: string; jti: string; expiresAt: number }>;

export interface ConfirmDeps {
  verifier: ConfirmationVerifier;
  mintToken: MintCallToken;
  /** Told when a session reaches a terminal state (outbound callbacks of API clients). */
  onTerminal?: (session: SessionView) => void;
  lockout: Lockout;
  jti: JtiGuard;
  sessions: Sessions;
  intercept: Intercept;
  audit: Audit;
  metrics: Metrics;
  logger: Logger;
}

const NOT_RECOGNIZED = 'That code was not recognized. Check the code the phone call gave you.';

/**
 * A device confirms a DID (DESIGN A4). The checks run in the contract's order: the JWS itself
 * (401), then the lockout (429), then replay (409), then the code (422 or confirmed). One 422 for
 * every kind of unknown code, so an answer never tells a wrong code from an expired or used one.
 */
export function createConfirm(deps: ConfirmDeps) {
  const { verifier, lockout, jti, sessions, audit, metrics } = deps;
  return async function confirm(compactJws: string): Promise<{ status: 'confirmed' }> {
    let claims;
    try {
      claims = await verifier.verify(compactJws);
    } catch (err) {
      // Only a refusal of the JWS is counted as one; a store outage propagates as 503.
      if (err instanceof InvalidConfirmationError) {
        metrics.confirmationsRefused.inc({ reason: 'invalid_signature' });
        deps.logger.info({ reason: err.reason }, 'confirmation refused: invalid signature');
      }
      throw err;
    }
    const who = { deviceId: claims.deviceId, customerId: claims.customerId };
    const mint = (sessionId: string, callId: string) => {
      const p = deps.mintToken({ customerId: claims.customerId, callId, sessionId });
      p.catch(() => undefined); // a token for a confirmation that lost is never awaited
      return p;
    };

    // Three questions in one round trip; the answer still follows the contract's order (429, then
    // 409, then the code). A confirmation refused as locked has spent its jti: it could only be
    // replayed, never reused. Looking the DID up changes nothing, so it may run before the checks.
    const [lock, firstUse, holder] = await Promise.all([lockout.isLocked(who), jti.claim(claims.deviceId, claims.jti), sessions.findDid(claims.did)]);
    if (lock.locked) {
      metrics.lockouts.inc();
      metrics.confirmationsRefused.inc({ reason: 'locked' });
      throw new AppError('locked', 'Too many wrong codes. Try again later.', { retryAfterSeconds: lock.retryAfterSeconds });
    }

    if (!firstUse) {
      metrics.confirmationsRefused.inc({ reason: 'replayed' });
      throw new AppError('replayed', 'This confirmation was already used.');
    }

    // The token is minted while the session is confirmed (a signature on a worker thread beside a
    // store round trip); it is kept only if the confirmation wins, and nobody sees it otherwise.
    const minting = holder.sessionId && holder.callId ? mint(holder.sessionId, holder.callId) : undefined;
    const outcome = await sessions.confirmHolder(holder, who);
    if (outcome.kind === 'not_recognized') {
      metrics.wrongDids.inc();
      metrics.confirmationsRefused.inc({ reason: 'code_not_recognized' });
      const counted = await lockout.recordWrongCode(who);
      if (!outcome.session) audit.logOnly('wrong_did', 'unknown', { deviceId: claims.deviceId });
      else {
        await audit.record('wrong_did', outcome.session.callId, { sessionId: outcome.session.sessionId, reason: outcome.reason, deviceId: claims.deviceId });
      }
      if (counted.nowLocked) {
        // Alert: the device or customer just reached the wrong-code limit.
        deps.logger.warn({ alert: 'lockout', deviceId: claims.deviceId, customerId: claims.customerId }, 'wrong-code limit reached; confirmations locked');
        audit.logOnly('lockout', outcome.session?.callId ?? '-', { deviceId: claims.deviceId, customerId: claims.customerId });
      }
      throw new AppError('code_not_recognized', NOT_RECOGNIZED);
    }

    const session = outcome.session;
    metrics.sessionOutcomes.inc({ status: 'confirmed' });
    // The caller is waiting in silence from here, so nothing below waits for a store reply before
    // the redirect leaves. That is safe because commands on one connection apply in the order they
    // are sent: the token is stored before any command of the verified webhook (which Twilio can
    // only send after our redirect) reads it, and the timeline still reads confirmed →
    // token_issued → intercept_success. The writes' outcomes are awaited before we answer.
    // A7: the call-bound token is the only key to protected actions from now on; kept sealed on the session.
    const confirmedRecorded = audit.record('confirmed', session.callId, { sessionId: session.sessionId, deviceId: claims.deviceId, customerId: claims.customerId });
    const minted = await (minting && holder.callId === session.callId ? minting : mint(session.sessionId, session.callId));
    const tokenStored = sessions.storeToken(session.sessionId, minted.token);
    const tokenRecorded = audit.record('token_issued', session.callId, { sessionId: session.sessionId, jti: minted.jti, expiresAt: new Date(minted.expiresAt).toISOString() });
    // Only this request saw `confirmed` (the confirm script is the claim), so it alone redirects.
    await Promise.all([confirmedRecorded, tokenStored, tokenRecorded, deps.intercept(session)]);
    deps.onTerminal?.(session);
    return { status: 'confirmed' };
  };
}
