import type { RedisClient } from '../store/client.js';
import { ttl, type Keys } from '../store/keys.js';
import { defineScript, reply } from '../store/lua.js';

/** The provider API's side of a session, next to the session itself (same slot, same lifetime). */
export interface ApiSessionRecord {
  clientId: string;
  locale: string;
  callbackUrl?: string;
}

/**
 * What the API keeps about its sessions beyond the verification core: which client opened it, the
 * prompts' language, the callback URL, and a once-only claim on the session's terminal state so the
 * audit event and the callback of an outcome happen once, whoever observes it first.
 */
export function createApiRecords(deps: { redis: RedisClient; keys: Keys; didTtlSeconds: number }) {
  const { redis, keys } = deps;
  const recordTtlMs = ttl.sessionMs(deps.didTtlSeconds);

  return {
    /** First writer wins per field: a second create for the same pending session keeps the first's values. */
    async save(sessionId: string, record: ApiSessionRecord, expiresAt: number): Promise<void> {
      const key = keys.apiSession(sessionId);
      const tx = redis.multi().hsetnx(key, 'clientId', record.clientId).hsetnx(key, 'locale', record.locale);
      if (record.callbackUrl !== undefined) tx.hsetnx(key, 'callbackUrl', record.callbackUrl);
      await tx.pexpire(key, recordTtlMs).exec();
      // A separate command: the due set is one key for all calls, in another Cluster slot.
      if (record.callbackUrl !== undefined) await redis.zadd(keys.apiCallbackDue(), 'NX', expiresAt, sessionId);
    },

    async read(sessionId: string): Promise<ApiSessionRecord | null> {
      const h = await redis.hgetall(keys.apiSession(sessionId));
      if (!h.clientId) return null;
      return { clientId: h.clientId, locale: h.locale ?? 'en-US', ...(h.callbackUrl ? { callbackUrl: h.callbackUrl } : {}) };
    },

    /** True exactly once per API session that reached a terminal state; false for any other session. */
    async claimTerminal(sessionId: string, now: number): Promise<boolean> {
      return claimTerminal(redis, { record: keys.apiSession(sessionId) }, { now });
    },

    /** Takes (removes and returns) up to `limit` sessions whose code expired by `now`; each is taken by one instance. */
    async takeDue(now: number, limit: number): Promise<string[]> {
      const ids = await redis.zrangebyscore(keys.apiCallbackDue(), '-inf', now, 'LIMIT', 0, limit);
      const taken: string[] = [];
      for (const id of ids) if ((await redis.zrem(keys.apiCallbackDue(), id)) === 1) taken.push(id);
      return taken;
    },

    async requeue(sessionId: string, expiresAt: number): Promise<void> {
      await redis.zadd(keys.apiCallbackDue(), expiresAt, sessionId);
    },

    /** Settled sessions need no expiry sweep. */
    async dropDue(sessionId: string): Promise<void> {
      await redis.zrem(keys.apiCallbackDue(), sessionId);
    },
  };
}

export type ApiRecords = ReturnType<typeof createApiRecords>;

/** 1 when this call claimed the terminal state, else 0 (claimed before, or not an API session). */
const claimTerminal = defineScript({ file: 'api-terminal-claim', keys: ['record'], args: ['now'], decode: (raw) => reply.number(raw) === 1 });
