import request, { type Response } from 'supertest';
import { expect } from 'vitest';
import type { TerminalNotifier } from '../../src/api/terminal.js';
import { createDemoBank } from '../../src/banking/demo-bank.js';
import type { Overrides } from '../../src/compose.js';
import { createKeys, type Keys } from '../../src/store/keys.js';
import { startTestApp, type TestApp } from './app.js';
import { createSpecChecker, type SpecChecker } from './api-spec.js';
import { controllableBank, type ControllableBank } from './bank-double.js';

export const CLIENTS = { genesys: 'genesys-secret-0001', nice: 'nice-secret-0002' } as const;
export type ClientId = keyof typeof CLIENTS;

/** The fixture the API tests' bank reads (A6): cust_001 has one account ending 9876 holding $1,250.50. */
export const API_BANK_FILE = 'data/demo-bank.json';

export interface SendOptions {
  params?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Default: HTTP Basic as the handle's client. */
  auth?: 'none' | { basic: [string, string] } | { bearer: string };
}

export interface ApiTestApp {
  t: TestApp;
  keys: Keys;
  /** The app's own notifier (`t.built.notifier`). */
  notifier: TerminalNotifier;
  /** The demo bank behind the app's banking port, recorded and controllable. */
  bank: ControllableBank;
  spec: SpecChecker;
  /** A request to `/api/v1` + `template` (params filled in), its answer checked against the served document. */
  send(method: 'get' | 'post', template: string, opts?: SendOptions & { as?: ClientId }): Promise<Response>;
  /** The call's audit timeline (event types, oldest first) through the admin API; [] for a call never seen. */
  timeline(callId: string): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The whole app (startTestApp: real Redis, manual clock, captured logs) with its own /api/v1 router,
 * call tokens, notifier and protected actions, as src/compose.ts builds them. Only the bank behind
 * the banking port is a double: the demo bank, recorded, able to hold a balance in flight or bloat it.
 * Rate limits are the settings (`env: { API_RATE_LIMIT_PER_CALL: '3' }`); callbacks retry without
 * waiting (`Overrides.callbackBackoffMs`).
 */
export async function startApiTestApp(options: { env?: Record<string, string>; overrides?: Overrides; redisUrl?: string } = {}): Promise<ApiTestApp> {
  const bankFile = options.env?.BANK_DATA_FILE ?? API_BANK_FILE;
  const bank = controllableBank(options.overrides?.bank ?? (await createDemoBank({ file: bankFile })));
  const t = await startTestApp({
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
    env: { API_CLIENTS: Object.entries(CLIENTS).map(([id, s]) => `${id}:${s}`).join(','), BANK_DATA_FILE: bankFile, ...options.env },
    overrides: {
      callbackBackoffMs: [0, 0],
      ...options.overrides,
      bank: bank.bank,
    },
  });
  const keys = createKeys(t.config.keyPrefix);
  const app = t.app;

  const served = await request(app).get('/api/v1/openapi.json');
  expect(served.status).toBe(200);
  const spec = createSpecChecker(served.body as Record<string, unknown>);

  return {
    t,
    keys,
    notifier: t.built.notifier,
    bank,
    spec,
    async send(method, template, opts = {}) {
      const path = template.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(opts.params?.[name] ?? `missing-${name}`));
      let req = request(app)[method](`/api/v1${path}`).set(opts.headers ?? {});
      const auth = opts.auth ?? { basic: [opts.as ?? 'genesys', CLIENTS[opts.as ?? 'genesys']] };
      if (auth !== 'none' && 'basic' in auth) req = req.auth(auth.basic[0], auth.basic[1]);
      if (auth !== 'none' && 'bearer' in auth) req = req.set('Authorization', `Bearer ${auth.bearer}`);
      const res = await (opts.body === undefined ? req : req.send(opts.body as object));
      spec.check(method, `/api/v1${template}`, res);
      return res;
    },
    async timeline(callId) {
      const res = await request(app).get(`/admin/v1/calls/${encodeURIComponent(callId)}/events`).set('Authorization', `Bearer ${t.adminKey}`);
      // A11: a call the trail has never seen is a 404; for these stories that is an empty timeline.
      if (res.status === 404) return [];
      expect(res.status).toBe(200);
      return (res.body as { events: { type: string }[] }).events.map((e) => e.type);
    },
    async close() {
      // built.close() waits for the notifier's callbacks in flight.
      await t.close();
    },
  };
}

let callCounter = 0;
/** A contact-centre call id (Genesys conversation ids are UUIDs). */
export function newProviderCallId(): string {
  callCounter += 1;
  return `conv-${Date.now().toString(16)}-${process.pid}-${callCounter}`;
}

/** The digits of the code in `prompts.speak`, as a caller would hear them. */
export function codeIn(speak: string): string {
  const m = /(?:code is|código es) ([\d,\s]+)/i.exec(speak);
  return m?.[1]?.replace(/\D/g, '') ?? '';
}
