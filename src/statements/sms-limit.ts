import type { RedisClient } from '../store/client.js';
import { ttl, type Keys } from '../store/keys.js';
import { defineScript, reply } from '../store/lua.js';

/** DESIGN A3/A5: at most 3 statement SMS per call, over the IVR and /api/v1 together. */
export const STATEMENT_SMS_PER_CALL = 3;

/** Takes one of the call's SMS if any is left: the new count, or 0 when the limit is reached. */
const reserveScript = defineScript({ file: 'statement-sms-reserve', keys: ['count'], args: ['limit', 'ttlMs'], decode: (raw) => reply.number(raw) });

/** Gives back an SMS that was never sent (never below zero). */
const releaseScript = defineScript({ file: 'statement-sms-release', keys: ['count'], args: [], decode: () => undefined });

export interface StatementSmsLimit {
  /** Takes one of the call's statement SMS; false when the call has had its 3. */
  reserve(callId: string): Promise<boolean>;
  /** Gives one back (the SMS failed, so it does not count). */
  release(callId: string): Promise<void>;
  /** Whether the call may still have one, without taking it (to refuse before asking which month). */
  left(callId: string): Promise<number>;
}

/** The count lives in the store with the call (its hash tag), so every instance sees the same one. */
export function createStatementSmsLimit(deps: { redis: RedisClient; keys: Keys; limit?: number }): StatementSmsLimit {
  const { redis, keys } = deps;
  const limit = deps.limit ?? STATEMENT_SMS_PER_CALL;
  return {
    async reserve(callId) {
      return (await reserveScript(redis, { count: keys.statementSmsCount(callId) }, { limit, ttlMs: ttl.callMs })) > 0;
    },
    async release(callId) {
      await releaseScript(redis, { count: keys.statementSmsCount(callId) }, {});
    },
    async left(callId) {
      return Math.max(0, limit - Number((await redis.get(keys.statementSmsCount(callId))) ?? 0));
    },
  };
}
