import {
  circuitBreaker,
  ConsecutiveBreaker,
  ConstantBackoff,
  handleWhen,
  isBrokenCircuitError,
  retry,
  TaskCancelledError,
  timeout,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import { z } from 'zod';
import type { Logger } from '../log/logger.js';
import { BankingUnavailableError, type BankingPort, type BankingUnavailableReason } from './port.js';
import { balanceSchema, customerSchema, newestFirst, statementRefSchema } from './schemas.js';

/**
 * The production bank (B5): the core-banking JSON API of docs/banking-api.md. B3: each attempt
 * has a timeout (≤ 3 s), a network error, timeout or 5xx is retried once after a short back-off,
 * and a circuit breaker stops calling a core that keeps failing, so callers hear the apology at
 * once instead of after every timeout.
 */
export interface HttpBankOptions {
  baseUrl: string;
  /** Sent as `Authorization: Bearer …` when set. */
  bearerToken?: string;
  /** Per attempt, 1–3000 ms. Default 3000. */
  timeoutMs?: number;
  /** Pause before the one retry. Default 200 ms. */
  retryDelayMs?: number;
  /** Failed attempts in a row that open the breaker. Default 5. */
  breakerThreshold?: number;
  /** How long the open breaker refuses calls before letting one test call through. Default 10 s. */
  breakerHalfOpenAfterMs?: number;
  logger?: Logger;
}

/** B3: a caller waits at most this long per attempt. */
export const MAX_BANKING_TIMEOUT_MS = 3000;

const NOT_FOUND = Symbol('not found');

/** This attempt ran out of time (the request was aborted). */
class AttemptTimeoutError extends Error {
  constructor(options: { cause: unknown }) {
    super('core banking did not answer in time', options);
  }
}

/** A 5xx: worth one more try. */
class ServerError extends Error {
  constructor(readonly status: number) {
    super(`core banking answered ${status}`);
  }
}

/** Any other non-2xx but 404 (401, 403, 400…): a configuration or contract problem, not retried. */
class RejectedError extends Error {
  constructor(readonly status: number) {
    super(`core banking refused the request with ${status}`);
  }
}

const statementsResponseSchema = z.object({ statements: z.array(statementRefSchema) });

export function createHttpBank(options: HttpBankOptions): BankingPort {
  const timeoutMs = options.timeoutMs ?? MAX_BANKING_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_BANKING_TIMEOUT_MS) {
    throw new RangeError(`banking timeout must be 1 to ${MAX_BANKING_TIMEOUT_MS} ms`);
  }
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.bearerToken) headers.authorization = `Bearer ${options.bearerToken}`;

  // Timeouts, network errors and 5xx are the core being unwell: retried, and counted by the breaker.
  const transient = handleWhen((err) => isTimeout(err) || err instanceof ServerError || isNetworkError(err));
  const breaker = circuitBreaker(transient, {
    halfOpenAfter: options.breakerHalfOpenAfterMs ?? 10_000,
    breaker: new ConsecutiveBreaker(options.breakerThreshold ?? 5),
  });
  // Outermost retry, innermost timeout: each attempt gets its own timeout and counts in the breaker.
  const policy = wrap(
    retry(transient, { maxAttempts: 1, backoff: new ConstantBackoff(options.retryDelayMs ?? 200) }),
    breaker,
    timeout(timeoutMs, TimeoutStrategy.Aggressive),
  );
  if (options.logger) {
    const log = options.logger;
    breaker.onBreak(() => log.warn({ component: 'banking' }, 'core banking circuit open: calls fail fast'));
    breaker.onReset(() => log.info({ component: 'banking' }, 'core banking circuit closed'));
  }

  async function get(path: string, budget?: AbortSignal): Promise<unknown> {
    try {
      // The caller's budget is the parent signal: once it aborts, the attempt in flight is aborted
      // and the retry is not started.
      return await policy.execute(async ({ signal }) => {
        const res = await fetch(baseUrl + path, { headers, signal, redirect: 'error' }).catch((err: unknown) => {
          // The timeout policy aborts the signal; fetch then rejects with its own AbortError.
          throw signal.aborted ? new AttemptTimeoutError({ cause: err }) : err;
        });
        if (res.status === 404) {
          await res.body?.cancel();
          return NOT_FOUND;
        }
        if (res.status >= 500) {
          await res.body?.cancel();
          throw new ServerError(res.status);
        }
        if (!res.ok) {
          await res.body?.cancel();
          throw new RejectedError(res.status);
        }
        return parseJson(await res.text());
      }, budget);
    } catch (err) {
      throw new BankingUnavailableError(reasonOf(err), { cause: err });
    }
  }

  function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
    const parsed = schema.safeParse(body);
    // The issues name fields and rules only; the body (account numbers) stays out of the error.
    if (!parsed.success) throw new BankingUnavailableError('bad_response', { cause: new Error(z.prettifyError(parsed.error)) });
    return parsed.data;
  }

  const customerPath = (customerId: string) => `/customers/${encodeURIComponent(customerId)}`;
  const accountPath = (customerId: string, accountId: string) => `${customerPath(customerId)}/accounts/${encodeURIComponent(accountId)}`;

  return {
    async getCustomer(customerId, options) {
      const body = await get(customerPath(customerId), options?.signal);
      if (body === NOT_FOUND) return null;
      const c = parse(customerSchema, body);
      // The core answered for another id: treat as a broken answer, never as this customer.
      if (c.id !== customerId) throw new BankingUnavailableError('bad_response');
      return c;
    },
    async getBalance(customerId, accountId, options) {
      const body = await get(`${accountPath(customerId, accountId)}/balance`, options?.signal);
      return body === NOT_FOUND ? null : parse(balanceSchema, body);
    },
    async listStatements(customerId, accountId, options) {
      const body = await get(`${accountPath(customerId, accountId)}/statements`, options?.signal);
      return body === NOT_FOUND ? null : newestFirst(parse(statementsResponseSchema, body).statements);
    },
  };
}

/** Not a body: JSON.parse's own message quotes the text, which may hold an account number. */
class BadBodyError extends Error {}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadBodyError('core banking answered with a body that is not JSON');
  }
}

function reasonOf(err: unknown): BankingUnavailableReason {
  if (isBrokenCircuitError(err)) return 'breaker_open';
  if (isTimeout(err)) return 'timeout';
  if (err instanceof ServerError) return 'server_error';
  if (err instanceof RejectedError) return 'rejected';
  if (isNetworkError(err)) return 'network';
  // BadBodyError, and anything unexpected.
  return 'bad_response';
}

/** Either side of the race: cockatiel's own cancellation, or fetch aborted by it. */
function isTimeout(err: unknown): boolean {
  // instanceof, not cockatiel's isTaskCancelledError: in 3.2.1 that one tests the wrong marker.
  return err instanceof TaskCancelledError || err instanceof AttemptTimeoutError;
}

/** undici's fetch rejects with a TypeError ("fetch failed") on connection errors. */
function isNetworkError(err: unknown): boolean {
  return err instanceof TypeError && err.message === 'fetch failed';
}
