import type { Audit } from '../audit/audit.js';
import type { Actor } from '../audit/events.js';
import type { Metrics } from '../audit/metrics.js';
import type { Logger } from '../log/logger.js';
import { AppError } from '../shared/errors.js';
import { InvalidConfirmationError, type ConfirmationVerifier } from './confirmation-jws.js';
import { policyCode, type Intercept } from './intercept.js';
import type { Lockout } from './lockout.js';
import type { Sessions, SessionView } from './sessions.js';

/** Mints the call-bound token (A7) for a just-confirmed session. */
export type MintCallToken = (input: { customerId: string; callId: string; sessionId: string }) => Promise<{ token: string; jti: string; expiresAt: number }>;

/** What a confirmation answers when its code is accepted (DESIGN A4). */
export type ConfirmAnswer = { status: 'confirmed' } | { status: 'recently_verified' };

/** Where the confirmation came from: the client address for the audit's `sourceIp` (A9). */
export interface ConfirmContext {
  sourceIp?: string;
}

export interface ConfirmDeps {
  verifier: ConfirmationVerifier;
  mintToken: MintCallToken;
  /** Told when a session reaches a terminal state (outbound callbacks of API clients). */
  onTerminal?: (session: SessionView) => void;
  lockout: Lockout;
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
 * The point against the wrong-code limit is reserved before the code is evaluated (lockout.ts), so
 * no burst of confirmations gets more than the limit's worth of guesses.
 */
export function createConfirm(deps: ConfirmDeps) {
  const { verifier, lockout, sessions, audit, metrics } = deps;
  return async function confirm(compactJws: string, context: ConfirmContext = {}): Promise<ConfirmAnswer> {
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
    // A9: the device is the HTTP actor of every event this confirmation causes.
    const actor: Actor = { type: 'device', id: claims.deviceId };
    const by = context.sourceIp ? { actor, sourceIp: context.sourceIp } : { actor };
    const locked = (retryAfterSeconds: number) => {
      metrics.lockouts.inc();
      metrics.confirmationsRefused.inc({ reason: 'locked' });
      return new AppError('locked', 'Too many wrong codes. Try again later.', { retryAfterSeconds });
    };
    // Answered like any unknown code (it reveals nothing), counted as none.
    const doubleSubmit = (callId: string | null, sessionId?: string) => {
      metrics.confirmationsRefused.inc({ reason: 'double_submit' });
      audit.logOnly('confirmation_double_submit', { ...(callId ? { callId } : {}), ...(sessionId ? { sessionId } : {}), deviceId: claims.deviceId });
      return new AppError('code_not_recognized', NOT_RECOGNIZED);
    };
    const mint = (sessionId: string, callId: string) => {
      const p = deps.mintToken({ customerId: claims.customerId, callId, sessionId });
      p.catch(() => undefined); // a token for a confirmation that lost is never awaited
      return p;
    };

    // The gate (lock, jti, a reserved point: one store script) and the DID's holder in one round
    // trip. Looking the DID up changes nothing, so it may run before the gate has answered; the
    // answers still follow the contract's order (429, then 409, then the code).
    const didHash = sessions.hashOf(claims.did);
    const [gate, holder] = await Promise.all([lockout.admit({ ...who, jti: claims.jti, didHash }), sessions.findDid(claims.did)]);
    if (gate.kind === 'locked') throw locked(gate.retryAfterSeconds);
    if (gate.kind === 'replayed') {
      metrics.confirmationsRefused.inc({ reason: 'replayed' });
      throw new AppError('replayed', 'This confirmation was already used.');
    }
    if (gate.kind === 'double_submit') throw doubleSubmit(holder.callId);
    const { ticket } = gate;

    // The token is minted while the session is confirmed (a signature on a worker thread beside a
    // store round trip); it is kept only if the confirmation wins, and nobody sees it otherwise.
    const minting = holder.sessionId && holder.callId ? mint(holder.sessionId, holder.callId) : undefined;
    // A store failure from here on leaves the point reserved (fail closed); the request answers 503.
    const outcome = await sessions.confirmHolder(holder, who);
    const confirmedAt = performance.now();
    if (outcome.kind === 'not_recognized') {
      const seen = outcome.session;
      // A code this very device confirmed (a race loser or an app's double submit) is not a guess.
      if (seen?.status === 'confirmed' && seen.deviceId === claims.deviceId) {
        await lockout.settle(ticket, 'double_submit');
        throw doubleSubmit(seen.callId, seen.sessionId);
      }
      const settled = await lockout.settle(ticket, 'wrong');
      if (settled.kind === 'released') throw doubleSubmit(seen?.callId ?? null, seen?.sessionId);
      // A rider (the same code as one in flight) finds the limit reached only now: locked, uncounted.
      if (settled.kind === 'locked') throw locked(settled.retryAfterSeconds);
      metrics.wrongDids.inc();
      metrics.confirmationsRefused.inc({ reason: 'code_not_recognized' });
      if (!seen) audit.logOnly('wrong_did_unmatched', { deviceId: claims.deviceId });
      else await audit.record('wrong_did', { callId: seen.callId, sessionId: seen.sessionId, reason: outcome.reason, deviceId: claims.deviceId, ...by });
      if (settled.nowLocked) {
        // Alert: the device or customer just reached the wrong-code limit.
        deps.logger.warn({ alert: 'lockout', deviceId: claims.deviceId, customerId: claims.customerId }, 'wrong-code limit reached; confirmations locked');
        await audit.record('lockout', { ...(seen ? { callId: seen.callId } : {}), deviceId: claims.deviceId, customerId: claims.customerId, ...by });
      }
      throw new AppError('code_not_recognized', NOT_RECOGNIZED);
    }

    if (outcome.kind === 'recently_verified') {
      // The right code, just after the call ended (LATE_CONFIRMATION_POLICY=recently-verified): not
      // a wrong code, so its point goes back; nothing is redirected and no token is minted (the
      // session stays call_ended); the call is marked recently verified by the confirm script.
      const late = outcome.session;
      await Promise.all([
        lockout.settle(ticket, 'confirmed'),
        audit.record('late_confirmation', {
          callId: late.callId,
          sessionId: late.sessionId,
          policy: policyCode('recently-verified'),
          result: 'recently_verified',
          via: 'confirmation',
          deviceId: claims.deviceId,
          customerId: claims.customerId,
          ...by,
        }),
      ]);
      return { status: 'recently_verified' };
    }

    const session = outcome.session;
    metrics.sessionOutcomes.inc({ status: 'confirmed' });
    // The caller is waiting in silence from here, so nothing below waits for a store reply before
    // the redirect leaves. That is safe because commands on one connection apply in the order they
    // are sent: the token is stored before any command of the verified webhook (which Twilio can
    // only send after our redirect) reads it, and the timeline still reads confirmed →
    // token_issued → intercept_success. The writes' outcomes are awaited before we answer.
    // A7: the call-bound token is the only key to protected actions from now on; kept sealed on the session.
    const confirmedRecorded = audit.record('confirmed', { callId: session.callId, sessionId: session.sessionId, deviceId: claims.deviceId, customerId: claims.customerId, ...by });
    const minted = await (minting && holder.callId === session.callId ? minting : mint(session.sessionId, session.callId));
    const tokenStored = sessions.storeToken(session.sessionId, minted.token, minted.jti);
    const tokenRecorded = audit.record('token_issued', { callId: session.callId, sessionId: session.sessionId, jti: minted.jti, expiresAt: new Date(minted.expiresAt).toISOString() });
    // Only this request saw `confirmed` (the confirm script is the claim), so it alone redirects.
    // The point goes back beside the redirect, never before it: the caller is waiting.
    const released = lockout.settle(ticket, 'confirmed');
    await Promise.all([confirmedRecorded, tokenStored, tokenRecorded, released, deps.intercept(session, confirmedAt)]);
    deps.onTerminal?.(session);
    return { status: 'confirmed' };
  };
}
