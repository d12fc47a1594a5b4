import { createHash } from 'node:crypto';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import type { RedisClient } from '../store/client.js';
import type { Keys } from '../store/keys.js';

/** DESIGN A11 (like A4): at most 10 failed sign-ins per 15 minutes, per reviewer name and per address. */
export const SIGN_IN_FAILURES = 10;
export const SIGN_IN_WINDOW_MS = 15 * 60 * 1000;

export interface SignInLimit {
  /**
   * Reserves one failure on the address and on the name before the secret is checked, so however
   * many attempts arrive at once at most 10 of them are checked; throws `locked` (429) past that,
   * the right secret included. `release()` gives the reservation back once the sign-in succeeded.
   */
  reserve(name: string, sourceIp: string): Promise<{ release(): Promise<void> }>;
}

/**
 * Counted in the store by rate-limiter-flexible (decision 0004), so every instance shares them. As
 * in api/rate-limit.ts, the fixed window comes from the injected clock and is part of the counter's
 * key; the library's expiry (store time) only collects counters whose window is long over.
 */
export function createSignInLimit(deps: { redis: RedisClient; keys: Keys; clock: Clock }): SignInLimit {
  const counter = (name: string) =>
    new RateLimiterRedis({
      storeClient: deps.redis,
      keyPrefix: deps.keys.limiter(name),
      points: SIGN_IN_FAILURES,
      duration: (2 * SIGN_IN_WINDOW_MS) / 1000,
      // The shared counter is the only truth; an in-memory block would make instances disagree.
      inMemoryBlockOnConsumed: 0,
    });
  const byAddress = counter('console-ip');
  const byName = counter('console-name');
  // A name is whatever was typed (perhaps a secret in the wrong field): only its hash is a key.
  const nameKey = (name: string) => createHash('sha256').update(name).digest('base64url').slice(0, 32);

  return {
    async reserve(name, sourceIp) {
      const now = deps.clock.now();
      const window = Math.floor(now / SIGN_IN_WINDOW_MS);
      const locked = () => {
        const minutes = Math.max(1, Math.ceil(((window + 1) * SIGN_IN_WINDOW_MS - now) / 60_000));
        return new AppError('locked', `Too many failed sign-ins for this reviewer or from this address. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, {
          retryAfterSeconds: minutes * 60,
        });
      };
      const consume = async (limiter: RateLimiterRedis, key: string) => {
        try {
          await limiter.consume(key, 1);
        } catch (err) {
          // Over the limit the library rejects with its counter; anything else is a store failure (503).
          if (err instanceof RateLimiterRes) throw locked();
          throw err;
        }
      };
      const ipKey = `${sourceIp}:${window}`;
      const userKey = `${nameKey(name)}:${window}`;
      // The address first: one address cannot fill the store with counters of names it makes up.
      await consume(byAddress, ipKey);
      await consume(byName, userKey);
      return {
        async release() {
          await Promise.all([byAddress.reward(ipKey, 1), byName.reward(userKey, 1)]);
        },
      };
    },
  };
}
