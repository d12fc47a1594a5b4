import express from 'express';
import request, { type Response } from 'supertest';
import { expect } from 'vitest';
import type { ApiLimits } from '../../src/api/rate-limit.js';
import { createProviderApiRouter } from '../../src/api/router.js';
import { createTerminalNotifier, type TerminalNotifier } from '../../src/api/terminal.js';
import type { Overrides } from '../../src/compose.js';
import type { BalanceAnswer, ProtectedActions, ProtectedCall } from '../../src/ivr/protected-actions.js';
import { AppError } from '../../src/shared/errors.js';
import { createKeys, type Keys } from '../../src/store/keys.js';
import { createCallTokens } from '../../src/verification/call-token.js';
import { startTestApp, type TestApp } from './app.js';
import { createSpecChecker, type SpecChecker } from './api-spec.js';

export const CLIENTS = { genesys: 'genesys-secret-0001', nice: 'nice-secret-0002' } as const;
export type ClientId = keyof typeof CLIENTS;

/** Balance and statement SMS without a bank: records each call; `hold()` keeps the next balance in flight. */
export function fakeProtectedActions() {
  const calls: { action: 'balance' | 'statementSms'; call: ProtectedCall }[] = [];
  let held: { entered: () => void; released: Promise<void> } | undefined;
  let speech = 'The available balance in your account ending in 9 8 7 6 is $1,250.50.';
  const actions: ProtectedActions = {
    accounts: async () => [{ last4: '9876' }],
    async balance(call): Promise<BalanceAnswer> {
      calls.push({ action: 'balance', call });
      const h = held;
      held = undefined;
      if (h) {
        h.entered();
        await h.released;
      }
      if ((call.accountIndex ?? 1) > 1) throw new AppError('not_found', 'No account at that position.');
      return { speech, maskedAccount: '••••9876', amount: '1250.50', currency: 'USD', last4Spoken: '9 8 7 6', amountSpoken: '$1,250.50' };
    },
    async statementSms(call) {
      calls.push({ action: 'statementSms', call });
      return { sent: true, maskedMobile: '••••0101', last4Spoken: '0 1 0 1' };
    },
  };
  return {
    actions,
    calls,
    /** The next balance waits until `release()`; `entered` resolves once it is waiting. */
    hold() {
      let release!: () => void;
      let entered!: () => void;
      const enteredP = new Promise<void>((r) => (entered = r));
      held = { entered, released: new Promise<void>((r) => (release = r)) };
      return { entered: enteredP, release };
    },
    /** Makes the balance answer absurdly large (a bug the 32 KB guard must catch). */
    bloat() {
      speech = 'x'.repeat(40 * 1024);
    },
  };
}

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
  notifier: TerminalNotifier;
  fake: ReturnType<typeof fakeProtectedActions>;
  spec: SpecChecker;
  /** A request to `/api/v1` + `template` (params filled in), its answer checked against the served document. */
  send(method: 'get' | 'post', template: string, opts?: SendOptions & { as?: ClientId }): Promise<Response>;
  /** The call's audit timeline (event types, oldest first) through the admin API. */
  timeline(callId: string): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The whole app (startTestApp: real Redis, manual clock, captured logs) with the provider API router
 * mounted in front of it at /api/v1, as src/app.ts will mount it; the call tokens are the real A7
 * module; protected actions are a fake until the banking feature is wired.
 */
export async function startApiTestApp(options: { limits?: Partial<ApiLimits>; env?: Record<string, string>; overrides?: Overrides } = {}): Promise<ApiTestApp> {
  const t = await startTestApp({
    env: { API_CLIENTS: Object.entries(CLIENTS).map(([id, s]) => `${id}:${s}`).join(','), ...options.env },
    ...(options.overrides ? { overrides: options.overrides } : {}),
  });
  const { deps } = t.built;
  const keys = createKeys(t.config.keyPrefix);
  const tokens = await createCallTokens({ signingKeys: t.config.tokenSigningKeys, issuer: t.config.publicBaseUrl, clock: t.clock, isCallEnded: (id) => deps.sessions.isCallEnded(id) });
  // Stand-in for the lead's callTokenOf: the token of a confirmed session, minted once.
  const minted = new Map<string, string>();
  const callTokenOf = async (sessionId: string): Promise<string | null> => {
    const known = minted.get(sessionId);
    if (known) return known;
    const session = await deps.sessions.get(sessionId);
    if (session?.status !== 'confirmed' || !session.customerId) return null;
    const { token } = await tokens.mint({ customerId: session.customerId, callId: session.callId, sessionId });
    minted.set(sessionId, token);
    return token;
  };
  const fake = fakeProtectedActions();
  const common = { redis: deps.store.redis, keys, clock: t.clock, sessions: deps.sessions, audit: deps.audit, metrics: deps.metrics, logger: deps.logger };
  const notifier = createTerminalNotifier({
    ...common,
    clients: t.config.apiClients,
    didTtlSeconds: t.config.did.ttlSeconds,
    callbacks: { backoffMs: [0, 0], timeoutMs: 2000, sleep: async () => undefined },
  });
  const router = createProviderApiRouter({
    ...common,
    clients: t.config.apiClients,
    didTtlSeconds: t.config.did.ttlSeconds,
    verifyCallToken: tokens.verify,
    callTokenOf,
    actions: fake.actions,
    notifier,
    allowLoopbackHttpCallbacks: !t.config.isProduction,
    publicBaseUrl: t.config.publicBaseUrl,
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const inner = t.app;
  const outer = express();
  outer.use('/api/v1', router);
  outer.use(inner);
  t.app = outer;

  const served = await request(outer).get('/api/v1/openapi.json');
  expect(served.status).toBe(200);
  const spec = createSpecChecker(served.body as Record<string, unknown>);

  return {
    t,
    keys,
    notifier,
    fake,
    spec,
    async send(method, template, opts = {}) {
      const path = template.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(opts.params?.[name] ?? `missing-${name}`));
      let req = request(outer)[method](`/api/v1${path}`).set(opts.headers ?? {});
      const auth = opts.auth ?? { basic: [opts.as ?? 'genesys', CLIENTS[opts.as ?? 'genesys']] };
      if (auth !== 'none' && 'basic' in auth) req = req.auth(auth.basic[0], auth.basic[1]);
      if (auth !== 'none' && 'bearer' in auth) req = req.set('Authorization', `Bearer ${auth.bearer}`);
      const res = await (opts.body === undefined ? req : req.send(opts.body as object));
      spec.check(method, `/api/v1${template}`, res);
      return res;
    },
    async timeline(callId) {
      const res = await request(outer).get(`/admin/v1/calls/${encodeURIComponent(callId)}/events`).set('Authorization', `Bearer ${t.adminKey}`);
      expect(res.status).toBe(200);
      return (res.body as { events: { type: string }[] }).events.map((e) => e.type);
    },
    async close() {
      await notifier.idle();
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
