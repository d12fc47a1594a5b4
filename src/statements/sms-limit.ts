import { luaScript, type RedisClient } from '../store/client.js';
import { ttl, type Keys } from '../store/keys.js';

/** DESIGN A3/A5: at most 3 statement SMS per call, over the IVR and /api/v1 together. */
export const STATEMENT_SMS_PER_CALL = 3;

/**
 * KEYS[1] the call's statement SMS count; ARGV[1] the limit, ARGV[2] the key's lifetime (ms).
 * Takes one of the call's SMS if any is left: returns the new count, or 0 when the limit is reached.
 * One script, so concurrent requests of one call can never take more than the limit between them.
 */
const RESERVE = luaScript(
  'vlStatementSmsReserve',
  1,
  `local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then return 0 end
n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return n`,
);

/** KEYS[1] the count; gives back an SMS that was never sent (never below zero). */
const RELEASE = luaScript(
  'vlStatementSmsRelease',
  1,
  `local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return 1`,
);

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
      return Number(await RESERVE(redis, [keys.statementSmsCount(callId)], [limit, ttl.callMs])) > 0;
    },
    async release(callId) {
      await RELEASE(redis, [keys.statementSmsCount(callId)], []);
    },
    async left(callId) {
      return Math.max(0, limit - Number((await redis.get(keys.statementSmsCount(callId))) ?? 0));
    },
  };
}
