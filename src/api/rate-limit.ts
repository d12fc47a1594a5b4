import type { Request, RequestHandler, Response } from 'express';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import type { RedisClient } from '../store/client.js';
import type { Keys } from '../store/keys.js';
import { clientOf } from './auth.js';

export interface Limit {
  points: number;
  durationSeconds: number;
}

export interface ApiLimits {
  /** Every request of one API client. */
  perClient: Limit;
  /** Every request about one call (polls, creates, actions), whoever sends it. */
  perCall: Limit;
}

/** API_RATE_LIMIT_PER_CLIENT and API_RATE_LIMIT_PER_CALL are requests per second. */
export function perSecondLimits(rates: { perClient: number; perCall: number }): ApiLimits {
  return { perClient: { points: rates.perClient, durationSeconds: 1 }, perCall: { points: rates.perCall, durationSeconds: 1 } };
}

/**
 * Fixed-window limits counted in the store by rate-limiter-flexible (decision 0004), shared by every
 * instance, and only for requests that authenticated: a refused request is counted in memory by
 * `refusals.ts` instead, so junk can neither write to the store nor use up a genuine client's or
 * call's allowance. The window is taken from the injected clock and put in the counter's key, so a
 * test on a manual clock gets the same answers as production on the system clock; the library's own
 * expiry (store time) only removes counters once their window is long over.
 */
export function createApiLimiter(deps: { redis: RedisClient; keys: Keys; clock: Clock; limits: ApiLimits }) {
  const { limits } = deps;

  const limiter = (name: string, limit: Limit) => {
    const store = new RateLimiterRedis({
      storeClient: deps.redis,
      keyPrefix: deps.keys.limiter(name),
      points: limit.points,
      // Garbage collection only (the window is in the key): long enough that a slow request never
      // sees its window's counter vanish under it, short enough that a call's counters do not pile up.
      duration: Math.max(10, 2 * limit.durationSeconds),
      // The shared counter is the only truth; an in-memory block would make instances disagree.
      inMemoryBlockOnConsumed: 0,
    });
    const windowMs = limit.durationSeconds * 1000;
    return async (id: string): Promise<void> => {
      const now = deps.clock.now();
      const window = Math.floor(now / windowMs);
      try {
        await store.consume(`${id}:${window}`, 1);
      } catch (err) {
        // Over the limit the library rejects with its counter; anything else is a store failure (503).
        if (!(err instanceof RateLimiterRes)) throw err;
        const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000));
        throw new AppError('rate_limited', 'Too many requests. Slow down and retry after the time in Retry-After.', { retryAfterSeconds });
      }
    };
  };

  const perClient = limiter('api-client', limits.perClient);
  const perCall = limiter('api-call', limits.perCall);

  return {
    limits,
    /** After authentication: counts the request against its client. */
    perClient: (async (_req, res, next) => {
      await perClient(clientOf(res));
      next();
    }) satisfies RequestHandler,
    /** Counts the request against its call; `tagOf` names the call (a call tag, never the call id in clear). */
    perCall:
      (tagOf: (req: Request, res: Response) => string | undefined): RequestHandler =>
      async (req, res, next) => {
        const tag = tagOf(req, res);
        if (tag !== undefined) await perCall(tag);
        next();
      },
  };
}

export type ApiLimiter = ReturnType<typeof createApiLimiter>;
