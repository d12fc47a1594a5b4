import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import request from 'supertest';
import twilio from 'twilio';
import { inject } from 'vitest';
import { createApp } from '../../src/app.js';
import { buildDeps, type Built, type Overrides } from '../../src/compose.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { manualClock } from '../../src/shared/clock.js';
import { FIXTURE_FLOWS_DIR } from './flows.js';
import type { Sql } from '../../src/audit/trail/sql.js';
import { freshAuditSql } from './audit-db.js';
import { freshPrefix } from './prefix.js';
import { startTwilioFake, type TwilioFake } from './twilio-fake.js';
import { parseTwiml, type ParsedTwiml } from './twiml.js';

export const PUBLIC_BASE_URL = 'https://ivr.bank.test/ivr';

export interface TestApp {
  app: Express;
  config: Config;
  built: Built;
  twilioFake: TwilioFake;
  clock: ReturnType<typeof manualClock>;
  /** Every log line written during the test, as parsed JSON. */
  logs: Record<string, unknown>[];
  rawLogs: string[];
  /** A signed Twilio webhook POST to `pathAndQuery` (as Twilio would, to PUBLIC_BASE_URL + path). */
  twilioPost(pathAndQuery: string, params: Record<string, string>, headers?: Record<string, string>): Promise<request.Response>;
  adminKey: string;
  /** The audit trail's database of this app (a fresh schema of the run's PostgreSQL unless one was given). */
  auditSql: Sql;
  close(): Promise<void>;
}

/**
 * The whole app over HTTP with real Redis behind (a fresh key prefix), a local Twilio REST stand-in,
 * a manual clock and every log line captured.
 */
export async function startTestApp(options: { env?: Record<string, string>; overrides?: Overrides; redisUrl?: string } = {}): Promise<TestApp> {
  const twilioFake = await startTwilioFake();
  const clock = manualClock(Date.now());
  const rawLogs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      rawLogs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const config = loadConfig({
    NODE_ENV: 'test',
    PUBLIC_BASE_URL,
    REDIS_URL: options.redisUrl ?? inject('redisUrl'),
    REDIS_KEY_PREFIX: freshPrefix('app'),
    FLOWS_DIR: FIXTURE_FLOWS_DIR,
    TWILIO_API_BASE_URL: twilioFake.baseUrl,
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const auditSql = options.overrides?.auditSql ?? (await freshAuditSql());
  const built = await buildDeps(config, { clock, logDestination: destination, redirectBackoffMs: [5, 10, 20], ...options.overrides, auditSql });
  const app = createApp(built.deps);
  return {
    app,
    config,
    built,
    twilioFake,
    clock,
    rawLogs,
    get logs() {
      return rawLogs.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    adminKey: config.adminApiKey,
    auditSql,
    twilioPost(pathAndQuery, params, headers = {}) {
      const signature = twilio.getExpectedTwilioSignature(config.twilio.authToken, PUBLIC_BASE_URL + pathAndQuery, params);
      return request(app).post(pathAndQuery).type('form').set('X-Twilio-Signature', signature).set(headers).send(params);
    },
    async close() {
      await built.close();
      if (!options.overrides?.auditSql) await auditSql.close();
      await twilioFake.close();
    },
  };
}

let callCounter = 0;
export function newCallSid(): string {
  callCounter += 1;
  return 'CA' + (Date.now().toString(16) + callCounter.toString(16).padStart(6, '0')).padStart(32, '0').slice(-32);
}

/** What a caller needs of an app: signed webhooks and its Twilio account (an in-process TestApp or a running one). */
export type Dialable = Pick<TestApp, 'twilioPost'> & { config: Pick<Config, 'twilio'> };

/** Signed Twilio webhooks to an app listening at `origin` (a spawned `main`) whose PUBLIC_BASE_URL is PUBLIC_BASE_URL. */
export function listeningApp(origin: string, config: Pick<Config, 'twilio'>): Dialable {
  return {
    config,
    twilioPost(pathAndQuery, params, headers = {}) {
      const signature = twilio.getExpectedTwilioSignature(config.twilio.authToken, PUBLIC_BASE_URL + pathAndQuery, params);
      return request(origin).post(pathAndQuery).type('form').set('X-Twilio-Signature', signature).set(headers).send(params);
    },
  };
}

/** One signed webhook a caller sent: enough to replay it byte for byte. */
export interface SentWebhook {
  path: string;
  params: Record<string, string>;
  headers: Record<string, string>;
  /** The answer it got. */
  text: string;
}

/**
 * A caller on the line: follows the TwiML like Twilio would (Gather action URLs, Redirects). Each
 * webhook carries a fresh `I-Twilio-Idempotency-Token`, as Twilio's do, and is kept in `sent`.
 */
export function caller(t: Dialable, opts: { callSid?: string; from?: string; to?: string } = {}) {
  const callSid = opts.callSid ?? newCallSid();
  const sent: SentWebhook[] = [];
  const base = { CallSid: callSid, AccountSid: t.config.twilio.accountSid, From: opts.from ?? '+14155550101', To: opts.to ?? '+18005550199', CallStatus: 'in-progress', Direction: 'inbound' };
  let last: ParsedTwiml | undefined;
  const pathOf = (absolute: string) => {
    if (!absolute.startsWith(PUBLIC_BASE_URL)) throw new Error(`URL not under PUBLIC_BASE_URL: ${absolute}`);
    return absolute.slice(PUBLIC_BASE_URL.length);
  };
  const post = async (path: string, extra: Record<string, string> = {}) => {
    const params = { ...base, ...extra };
    const headers = { 'I-Twilio-Idempotency-Token': `${callSid}-${sent.length}-${randomUUID()}` };
    const res = await t.twilioPost(path, params, headers);
    sent.push({ path, params, headers, text: res.text });
    if (res.status !== 200) throw new Error(`webhook ${path} answered ${res.status}`);
    if (!String(res.headers['content-type']).startsWith('text/xml')) throw new Error('webhook did not answer TwiML');
    last = parseTwiml(res.text);
    return last;
  };
  return {
    callSid,
    sent,
    get last() {
      if (!last) throw new Error('no TwiML yet');
      return last;
    },
    dial: () => post('/twilio/voice', { CallStatus: 'ringing' }),
    /** Presses keys at the current Gather. */
    press: (digits: string) => {
      if (!last?.gather) throw new Error('no Gather to press keys at');
      return post(pathOf(last.gather.action), { Digits: digits });
    },
    /** Stays silent until the Gather times out. */
    silence: () => {
      if (!last?.gather) throw new Error('no Gather to wait at');
      return post(pathOf(last.gather.action), { Digits: '' });
    },
    /** Twilio fetching an absolute URL (e.g. the one a calls.update redirected the call to). */
    fetch: (absoluteUrl: string) => post(pathOf(absoluteUrl)),
    hangUp: () => t.twilioPost('/twilio/status', { ...base, CallStatus: 'completed', CallDuration: '42' }),
  };
}

/** The DID as the caller heard it: the digits of the one Say that calls it a code. */
export function spokenCode(t: ParsedTwiml): string | undefined {
  for (const s of t.says) {
    const m = /code is ([\d,\s]+)/i.exec(s.text);
    if (m?.[1]) return m[1].replace(/\D/g, '');
  }
  return undefined;
}
