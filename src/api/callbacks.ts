import { createHmac } from 'node:crypto';
import type { Clock } from '../shared/clock.js';
import type { TerminalCallback } from './schemas.js';

export const SIGNATURE_HEADER = 'X-Vaultline-Signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`, as Stripe signs its webhooks. */
export function signCallback(secret: string, body: string, unixSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

/**
 * Where a callback may go: `https` always; plain `http` only to this machine and only outside
 * production (local development and tests). Anything else would send a signed outcome in clear.
 */
export function callbackUrlAllowed(url: string, allowLoopbackHttp: boolean): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.username || u.password) return false;
  if (u.protocol === 'https:') return true;
  return allowLoopbackHttp && u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}

export type DeliveryOutcome = { delivered: true; attempts: number } | { delivered: false; attempts: number; reason: string };

export interface CallbackSenderOptions {
  clock: Clock;
  /** Back-off before each retry; its length is the number of retries (bounded). */
  backoffMs?: readonly number[];
  /** Per attempt. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * POSTs a terminal outcome, signed with the client's secret, retrying network errors, timeouts, 408,
 * 429 and 5xx with back-off; any other answer is final. Redirects are not followed: the registered
 * URL is the only place a signed outcome goes.
 */
export function createCallbackSender(opts: CallbackSenderOptions) {
  const backoff = opts.backoffMs ?? [1000, 4000, 16000];
  const timeoutMs = opts.timeoutMs ?? 5000;
  const fetchFn = opts.fetch ?? fetch;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  return async function send(url: string, secret: string, payload: TerminalCallback): Promise<DeliveryOutcome> {
    const body = JSON.stringify(payload);
    let reason = 'unknown';
    for (let attempt = 0; attempt <= backoff.length; attempt++) {
      // Signed per attempt: a receiver that refuses old timestamps still accepts a late retry.
      const signature = signCallback(secret, body, Math.floor(opts.clock.now() / 1000));
      try {
        const res = await fetchFn(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', [SIGNATURE_HEADER]: signature, 'User-Agent': 'vaultline-ivr-callback/1' },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.body?.cancel();
        if (res.ok) return { delivered: true, attempts: attempt + 1 };
        reason = `http_${res.status}`;
        if (res.status < 500 && res.status !== 408 && res.status !== 429) return { delivered: false, attempts: attempt + 1, reason };
      } catch (err) {
        reason = err instanceof Error && err.name === 'TimeoutError' ? 'timeout' : 'network';
      }
      const wait = backoff[attempt];
      if (wait === undefined) return { delivered: false, attempts: attempt + 1, reason };
      await sleep(wait);
    }
    return { delivered: false, attempts: backoff.length + 1, reason };
  };
}
