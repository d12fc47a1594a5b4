import type { Request, Response } from 'express';
import type { Logger } from '../log/logger.js';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';

/**
 * Requests whose credentials fail, counted per source address in this process's memory (DESIGN
 * A5): a refusal never touches the store, so junk costs nothing shared and cannot crowd a genuine
 * client's counters. Past the address's budget the answer is 429 instead of 401 and the log goes
 * quiet; a request from that address whose credentials hold is never affected, so one bad neighbour
 * behind a NAT or a contact centre's proxy does not cut the others off.
 */
export interface CredentialRefusals {
  /**
   * Counts one refused request and says how to answer it. `withinBudget` is false past the budget:
   * the caller then skips whatever it would have written about the refusal (`token_rejected`).
   */
  refuse(req: Request, res: Response, refusal: { scheme: 'Basic' | 'Bearer'; reason: string; message: string; invalidToken?: boolean }): { error: AppError; withinBudget: boolean };
}

/** Refusals per address per second before 429: far above a misconfigured client retrying, far below a guessing script. */
export const REFUSALS_PER_ADDRESS_PER_SECOND = 20;
/** Addresses tracked per window; beyond, new addresses share one budget (a spray of IPv6 addresses cannot grow the map). */
const MAX_TRACKED_ADDRESSES = 50_000;
const OVERFLOW = 'overflow';

export function createCredentialRefusals(deps: { clock: Clock; logger: Logger; perSecond?: number }): CredentialRefusals {
  const log = deps.logger.child({ component: 'api-auth' });
  const budget = deps.perSecond ?? REFUSALS_PER_ADDRESS_PER_SECOND;
  let window = -1;
  const counts = new Map<string, number>();

  return {
    refuse(req, res, refusal) {
      const now = deps.clock.now();
      const current = Math.floor(now / 1000);
      if (current !== window) {
        window = current;
        counts.clear();
      }
      const address = req.ip ?? 'unknown';
      const key = counts.has(address) || counts.size < MAX_TRACKED_ADDRESSES ? address : OVERFLOW;
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      const where = { method: req.method, path: `${req.baseUrl}${req.path}`, scheme: refusal.scheme, reason: refusal.reason };
      if (count <= budget) {
        log.warn(where, 'API request refused');
        const params = refusal.invalidToken ? ', error="invalid_token"' : '';
        res.setHeader('WWW-Authenticate', refusal.scheme === 'Basic' ? 'Basic realm="vaultline-api", charset="UTF-8"' : `Bearer realm="vaultline-api"${params}`);
        return { error: new AppError('unauthorized', refusal.message), withinBudget: true };
      }
      // One line when the address goes over, none after it in this window.
      if (count === budget + 1) log.warn({ ...where, perSecond: budget }, 'API refusals from one address over budget: answering 429');
      const retryAfterSeconds = Math.max(1, Math.ceil(((current + 1) * 1000 - now) / 1000));
      return { error: new AppError('rate_limited', 'Too many refused requests. Retry after the time in Retry-After.', { retryAfterSeconds }), withinBudget: false };
    },
  };
}
