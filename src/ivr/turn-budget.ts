import { performance } from 'node:perf_hooks';
import { AppError } from '../shared/errors.js';

/**
 * DESIGN A3/B3: every webhook answer leaves within 10 s of the request (Twilio gives up at 15 s and
 * plays "an application error has occurred"). The backends a turn calls (the bank, S3, SMS) get
 * what is left of it, less a reserve for what follows them: the apology the action turns into, the
 * turn's store write and the answer itself.
 */
export const TURN_BUDGET_MS = 10_000;
const ANSWER_RESERVE_MS = 1_000;

/** The turn's time ran out while a backend was still working: the action apologises, the call goes on. */
export class TurnBudgetSpentError extends AppError {
  constructor() {
    super('unavailable', 'The turn ran out of time.');
  }
}

export interface TurnBudget {
  /** Aborts when the backends' share of the budget is spent. */
  signal: AbortSignal;
  /** The turn is answered: stop the timer. */
  end(): void;
  /** Milliseconds of the backends' share still left (0 once spent), read on the monotonic clock. */
  left(): number;
}

/**
 * Starts a turn's budget. `startedAt` is `performance.now()` when the request arrived (the body may
 * have taken some of it). Measured on the monotonic clock, never the injected one: a test's manual
 * clock must not stop a real timer.
 */
export function startTurnBudget(startedAt: number, budgetMs = TURN_BUDGET_MS): TurnBudget {
  const reserve = Math.min(ANSWER_RESERVE_MS, budgetMs / 4);
  const until = startedAt + budgetMs - reserve;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TurnBudgetSpentError()), Math.max(0, until - performance.now()));
  return { signal: controller.signal, end: () => clearTimeout(timer), left: () => Math.max(0, until - performance.now()) };
}

/**
 * `work()`, or a TurnBudgetSpentError as soon as `signal` aborts, whichever comes first. A backend
 * that ignores its signal cannot hold the turn: it finishes (or fails) in the background, unheard.
 */
export function withinBudget<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  if (!signal) return work();
  if (signal.aborted) return Promise.reject(new TurnBudgetSpentError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new TurnBudgetSpentError());
    signal.addEventListener('abort', onAbort, { once: true });
    work()
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}
