import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisClient } from '../store/client.js';
import type { Keys } from '../store/keys.js';

/** DESIGN A4/B2: at most 10 wrong codes within 15 minutes, per device and per customer. */
export const WRONG_CODE_LIMIT = 10;
export const WRONG_CODE_WINDOW_SECONDS = 15 * 60;

export interface LockoutSubject {
  deviceId: string;
  customerId: string;
}

export interface Lockout {
  /** Reads both counters without consuming: locked once either has reached the limit. */
  isLocked(subject: LockoutSubject): Promise<{ locked: boolean; retryAfterSeconds: number }>;
  /** Counts one wrong code against the device and its customer. */
  recordWrongCode(subject: LockoutSubject): Promise<{ nowLocked: boolean }>;
}

/**
 * Counters live in the store under the device and the customer, never the session or the DID, so a
 * reissued code or a new session does not reset them. The window is fixed (A4 allows it) and kept
 * by the store's TTLs; once a counter reaches the limit it is held for a whole window from that
 * moment, so a lock never ends a few seconds after it began.
 */
export function createLockout(deps: { redis: RedisClient; keys: Keys }): Lockout {
  const limiter = new RateLimiterRedis({
    storeClient: deps.redis,
    keyPrefix: deps.keys.limiter('wrong-did'),
    points: WRONG_CODE_LIMIT,
    duration: WRONG_CODE_WINDOW_SECONDS,
    // Counting only: the in-memory block would make one instance disagree with the others.
    inMemoryBlockOnConsumed: 0,
  });
  const counters = (s: LockoutSubject) => [`dev:${s.deviceId}`, `cust:${s.customerId}`];

  const consume = async (key: string): Promise<RateLimiterRes> => {
    try {
      return await limiter.consume(key, 1);
    } catch (err) {
      // Past the limit the library rejects with the counter itself; anything else is a store failure.
      if (err instanceof RateLimiterRes) return err;
      throw err;
    }
  };

  return {
    async isLocked(subject) {
      const states = await Promise.all(counters(subject).map((k) => limiter.get(k)));
      let locked = false;
      let retryAfterMs = 0;
      for (const s of states) {
        if (s && s.consumedPoints >= WRONG_CODE_LIMIT) {
          locked = true;
          retryAfterMs = Math.max(retryAfterMs, s.msBeforeNext);
        }
      }
      return { locked, retryAfterSeconds: Math.ceil(retryAfterMs / 1000) };
    },

    async recordWrongCode(subject) {
      const keys = counters(subject);
      const results = await Promise.all(keys.map(consume));
      let nowLocked = false;
      await Promise.all(
        results.map(async (r, i) => {
          if (r.consumedPoints < WRONG_CODE_LIMIT) return;
          nowLocked = true;
          // Only the code that reaches the limit starts the hold; later ones must not extend it forever.
          if (r.consumedPoints === WRONG_CODE_LIMIT) await limiter.block(keys[i] as string, WRONG_CODE_WINDOW_SECONDS);
        }),
      );
      return { nowLocked };
    },
  };
}
