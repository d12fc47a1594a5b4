import twilio from 'twilio';
import type { LiveCallControl, RedirectOutcome } from '../live-call.js';
import type { CallsUpdate } from './calls-update.js';

export interface TwilioRestOptions {
  accountSid: string;
  authToken: string;
  /** Origin replacing https://api.twilio.com (a simulator, a proxy). */
  apiBaseUrl: string;
  /** Per attempt. */
  timeoutMs?: number;
  /** Back-off before each retry; its length is the number of retries. */
  backoffMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
}

type TwilioClient = ReturnType<typeof twilio>;

/** The twilio SDK with its REST origin replaced by TWILIO_API_BASE_URL. */
export function createTwilioClient(opts: TwilioRestOptions): TwilioClient {
  const client = twilio(opts.accountSid, opts.authToken, { timeout: opts.timeoutMs ?? 3000, autoRetry: false });
  // Calls and Messages live in the `api` domain (2010-04-01); its base URL is what the SDK prefixes.
  client.api.baseUrl = opts.apiBaseUrl.replace(/\/+$/, '');
  return client;
}

const CALL_GONE_CODES = new Set([21220, 20404]);

/** Classifies a Twilio REST failure: the call is gone, worth a retry, or a permanent refusal. */
export function classifyTwilioError(err: unknown): 'gone' | 'retry' | 'permanent' {
  const e = err as { status?: number; code?: number | string };
  if (typeof e.status === 'number' && e.status > 0) {
    if (e.status === 404 || (typeof e.code === 'number' && CALL_GONE_CODES.has(e.code))) return 'gone';
    if (e.status >= 500 || e.status === 429) return 'retry';
    return 'permanent';
  }
  return 'retry'; // network error, timeout
}

/** The intercept for Twilio: `calls.update` (see calls-update.ts), retried with back-off on transient failures. */
export function createTwilioLiveCallControl(calls: CallsUpdate, opts: Pick<TwilioRestOptions, 'backoffMs' | 'sleep'> = {}): LiveCallControl {
  const backoff = opts.backoffMs ?? [50, 200, 800];
  const sleep = opts.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  return {
    async redirect(callSid, absoluteUrl): Promise<RedirectOutcome> {
      let lastReason = 'unknown';
      for (let attempt = 0; attempt <= backoff.length; attempt++) {
        const answer = await calls.update(callSid, absoluteUrl);
        if (answer.status >= 200 && answer.status < 300) return { kind: 'redirected' };
        const kind = classifyTwilioError(answer);
        if (kind === 'gone') return { kind: 'gone' };
        lastReason = answer.status ? `http_${answer.status}` : 'network';
        if (kind === 'permanent') break;
        const wait = backoff[attempt];
        if (wait === undefined) break;
        await sleep(wait);
      }
      return { kind: 'failed', reason: lastReason };
    },
  };
}
