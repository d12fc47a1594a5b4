import type { RedisClient } from '../store/client.js';
import { ttl, type Keys } from '../store/keys.js';
import type { Sealer } from '../shared/seal.js';
import { markRecentlyVerified, readRecentlyVerified } from './session-scripts.js';

/**
 * A call marked recently verified (DESIGN A4, LATE_CONFIRMATION_POLICY=recently-verified): the
 * customer confirmed the code in the app, but too late to verify the live call. The mark lasts
 * 10 minutes by the store's clock and names the customer and the provider's case id, so the agent
 * who takes the customer's call-back for that case can see it (A5 `GET /calls/{callId}/verification`).
 * It is written by the confirm script itself (a late confirmation) or by `markConfirmed` (the
 * intercept found the call already gone after a `200 confirmed`, B2).
 */
export interface RecentlyVerified {
  /** Store time (ms) of the late confirmation. */
  at: number;
  expiresAt: number;
  customerId: string;
  caseId?: string;
  sessionId: string;
  /** The session's channel (`twilio`, `api:<client>`): who may read the mark. */
  channel: string;
}

/** The sealing context of a session's case id: never the call token's (both use the session's sealer). */
export const caseContext = (sessionId: string) => `case\n${sessionId}`;

export function createRecentlyVerified(deps: { redis: RedisClient; keys: Keys; sealer: Sealer }) {
  const { redis, keys, sealer } = deps;
  const unsealCase = (sealed: string, sessionId: string) => (sealed ? sealer.unseal(sealed, caseContext(sessionId)) : undefined);
  return {
    /** Marks the call of a confirmed session (its customer, its case); false when the session is not confirmed. */
    markConfirmed: (sessionId: string) =>
      markRecentlyVerified(redis, { session: keys.session(sessionId), recentlyVerified: keys.recentlyVerifiedOfSession(sessionId) }, { recentlyVerifiedMs: ttl.recentlyVerifiedMs }),

    /** The call's mark if it still holds by the store's clock, else null. */
    async of(callId: string): Promise<RecentlyVerified | null> {
      const r = await readRecentlyVerified(redis, { recentlyVerified: keys.recentlyVerified(callId) }, {});
      if (!r || !r.customerId) return null;
      const caseId = unsealCase(r.caseSealed, r.sessionId);
      return { at: r.at, expiresAt: r.expiresAt, customerId: r.customerId, sessionId: r.sessionId, channel: r.channel, ...(caseId ? { caseId } : {}) };
    },

    /** The case id the provider gave when a session was opened (metadata.caseId), or null. */
    async caseOf(sessionId: string): Promise<string | null> {
      const sealed = await redis.hget(keys.session(sessionId), 'caseSealed');
      return unsealCase(sealed ?? '', sessionId) ?? null;
    },
  };
}

export type RecentlyVerifiedCalls = ReturnType<typeof createRecentlyVerified>;
