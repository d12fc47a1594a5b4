import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Samples, type Summary } from './stats.js';
import type { SignedRequest } from './webhook.js';

export interface PooledRequest extends SignedRequest {
  /** Handed back to `onAnswer`, e.g. the CallSid. */
  tag: string;
}

export interface HammerOptions {
  origin: string;
  connections: number;
  /** Exactly this many requests (each from `next`), or… */
  amount?: number;
  /** …as many as fit in this many seconds. */
  seconds?: number;
  next: () => PooledRequest;
  /** Default POST (webhooks). */
  method?: 'GET' | 'POST';
  /** Open loop: at most this many requests per second in all (autocannon `overallRate`); default as fast as answered. */
  overallRate?: number;
  /** The status this scenario expects; default any 2xx. */
  status?: number;
  /** Sees every answer; returns false when the answer is not what this scenario expects. */
  onAnswer?: (tag: string, status: number, body: string) => boolean;
}

export interface HammerResult {
  requests: number;
  /** Answers with the expected status that `onAnswer` accepted. */
  ok: number;
  /** Other statuses, refused by `onAnswer`, connection errors and timeouts. */
  errors: number;
  statuses: Record<string, number>;
  seconds: number;
  perSecond: number;
  latencyMs: Summary;
}

/**
 * Closed-loop load with autocannon: `connections` keep-alive sockets, one request in flight each.
 * Latency is recorded from autocannon's per-response timing (sub-millisecond), not its histogram,
 * which rounds to whole milliseconds.
 */
export async function hammer(opts: HammerOptions): Promise<HammerResult> {
  const latency = new Samples();
  let ok = 0;
  let refused = 0;
  const statuses: Record<string, number> = {};
  // autocannon reports 'done' on its next one-second tick, so the run's length is taken from the
  // first request written to the last answer read instead.
  let first = NaN;
  let last = NaN;
  let finish: (err: unknown, result: autocannon.Result) => void = () => undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = (err, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result));
  });
  // The callback form returns the instance (its 'response' events carry exact timings).
  const instance = autocannon({
    url: opts.origin,
    connections: opts.connections,
    ...(opts.amount !== undefined ? { amount: opts.amount } : { duration: opts.seconds ?? 10 }),
    timeout: 10,
    ...(opts.overallRate !== undefined ? { overallRate: opts.overallRate } : {}),
    requests: [
      {
        method: opts.method ?? 'POST',
        setupRequest: (req, context) => {
          if (Number.isNaN(first)) first = performance.now();
          const item = opts.next();
          (context as { tag?: string }).tag = item.tag;
          return { ...req, path: item.path, body: item.body, headers: item.headers };
        },
        onResponse: (status, body, context) => {
          last = performance.now();
          statuses[status] = (statuses[status] ?? 0) + 1;
          const expected = opts.status === undefined ? status >= 200 && status < 300 : status === opts.status;
          const accepted = expected && (opts.onAnswer?.((context as { tag: string }).tag, status, body) ?? true);
          if (accepted) ok++;
          else refused++;
        },
      },
    ],
  }, (err, result) => finish(err, result));
  instance.on('response', (_client, _status, _bytes, ms) => latency.push(ms));
  const result = await done;
  const seconds = (last - first) / 1000;
  return {
    requests: ok + refused,
    ok,
    errors: refused + result.errors,
    statuses,
    seconds,
    perSecond: ok / seconds,
    latencyMs: latency.summary(),
  };
}
