import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpBank } from '../src/banking/http-bank.js';
import { caller, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { startFakeCore, type FakeCore } from './support/core-bank-fake.js';
import { heard } from './support/twiml.js';

/**
 * Issue 3 acceptance, the canary: whole calls (both demo customers, both actions, the failure paths)
 * with every log line captured; none of the sensitive values used in the run may appear in any line,
 * nor in the audit timelines compliance reads, nor anywhere in the audit trail's PostgreSQL table (issue 14).
 */

interface DemoBank {
  customers: { id: string; mobile: string; accounts: { number: string }[] }[];
}
const demo = JSON.parse(readFileSync('data/demo-bank.json', 'utf8')) as DemoBank;

const signingKey = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'canary-1' };
const SECRETS = {
  TWILIO_AUTH_TOKEN: 'canary-twilio-auth-token-7f3a9c',
  ADMIN_API_KEY: 'canary-admin-key-5b1e77d0',
  DATA_SECRET: 'canary-data-secret-0c4f2b9a8e71d6',
  API_CLIENTS: 'genesys:canary-api-secret-93ad1f',
  AUDIT_REVIEWERS: 'alice:canary-reviewer-secret-4d2e9a',
  TOKEN_SIGNING_KEYS: JSON.stringify([signingKey]),
};

/** Everything a run must never write: filled in as the calls go. */
const canaries = new Map<string, string>();
function watch(label: string, value: string | undefined): void {
  if (value && value.length >= 4) canaries.set(value, label);
}

/** Values that must not appear, in the forms a leak would take (raw, spaced, grouped, without +). */
function forms(value: string): string[] {
  const out = [value];
  if (/^\+?\d{6,}$/.test(value)) {
    const digits = value.replace(/\D/g, '');
    out.push(digits, [...digits].join(' '), [...digits].join(', '), digits.replace(/(\d{4})(?=\d)/g, '$1-'), digits.replace(/(\d{4})(?=\d)/g, '$1 '));
    // The part before the last four of an account number is a leak on its own.
    if (digits.length >= 12) out.push(digits.slice(0, -4));
  }
  return out;
}

async function timeline(t: TestApp, callSid: string): Promise<string> {
  const res = await request(t.app).get(`/admin/v1/calls/${callSid}/events`).set('Authorization', `Bearer ${t.adminKey}`);
  expect(res.status).toBe(200);
  return res.text;
}

describe('canary: no sensitive value reaches a log line or an audit timeline', () => {
  let t: TestApp;
  let down: TestApp;
  let core: FakeCore;
  const callSids: { app: TestApp; callSid: string }[] = [];

  async function verifiedCall(app: TestApp, option: '1' | '2', customerId: string, from: string) {
    const device = await enrollDevice(app, customerId);
    const call = caller(app, { from });
    watch('caller number', from);
    callSids.push({ app, callSid: call.callSid });
    await call.dial();
    const wait = await call.press(option);
    const did = spokenCode(wait) ?? '';
    watch('DID', did);
    // A wrong code first (its own failure path), then the right one.
    const wrong = String((Number(did) + 500_001) % 1_000_000).padStart(did.length, '0');
    watch('wrong DID', wrong);
    expect((await device.confirm(wrong)).status).toBe(422);
    expect((await device.confirm(did)).status).toBe(200);
    const update = app.twilioFake.callUpdates().find((u) => u.path.endsWith(`/Calls/${call.callSid}.json`));
    watch('redirect URL', update?.form.Url);
    const verified = await call.fetch(update?.form.Url ?? '');
    return { call, verified };
  }

  /** The call token and the link tokens the run produced. */
  async function watchTokens(app: TestApp): Promise<void> {
    for (const { app: a, callSid } of callSids) {
      if (a !== app) continue;
      const events = JSON.parse(await timeline(app, callSid)) as { events: { sessionId?: string }[] };
      for (const sessionId of new Set(events.events.map((e) => e.sessionId).filter((s): s is string => !!s))) {
        watch('call token', (await app.built.deps.sessions.tokenOf(sessionId)) ?? undefined);
      }
    }
    for (const m of app.twilioFake.messages()) {
      const link = /\/s\/([A-Za-z0-9_-]+)/.exec(m.form.Body ?? '')?.[1];
      watch('link token', link);
      watch('SMS body', m.form.Body);
    }
  }

  beforeAll(async () => {
    for (const c of demo.customers) {
      watch(`mobile of ${c.id}`, c.mobile);
      for (const a of c.accounts) watch(`account of ${c.id}`, a.number);
    }
    for (const [k, v] of Object.entries(SECRETS)) if (k !== 'TOKEN_SIGNING_KEYS' && k !== 'API_CLIENTS' && k !== 'AUDIT_REVIEWERS') watch(k, v);
    watch('API client secret', 'canary-api-secret-93ad1f');
    watch('reviewer secret', 'canary-reviewer-secret-4d2e9a');
    watch('token signing key (d)', signingKey.d);
    watch('bank line number', '+18005550199');

    t = await startTestApp({ env: SECRETS });
    // A careless line that carries every configured secret: the logger's own scrubber must catch each.
    t.built.deps.logger.warn({ note: `debug ${SECRETS.TWILIO_AUTH_TOKEN} ${SECRETS.ADMIN_API_KEY} canary-api-secret-93ad1f canary-reviewer-secret-4d2e9a ${SECRETS.DATA_SECRET}` }, 'careless line');
    // Ada: balance; the latest statement, downloaded; then asked again with Twilio refusing the SMS.
    const ada = await verifiedCall(t, '1', 'cust_001', '+14155550177');
    expect(heard(ada.verified)).toContain('your available balance is $1,250.50.');
    await ada.call.press('2');
    await ada.call.press('1');
    const link = /\/s\/[A-Za-z0-9_-]+/.exec(t.twilioFake.messages()[0]?.form.Body ?? '')?.[0] ?? '';
    expect((await request(t.app).get(link)).status).toBe(200);
    const spend = await request(t.app).post(link).type('form').send('');
    expect(spend.status).toBe(303);
    watch('presigned URL', String(spend.headers.location));
    watch('presigned signature', new URL(String(spend.headers.location)).searchParams.get('sig') ?? undefined);
    expect((await request(t.app).post(link).type('form').send('')).status).toBe(410);
    t.twilioFake.respond((r) => (r.path.endsWith('/Messages.json') ? { status: 400, body: { code: 21211, message: "The 'To' number +14155550101 is not a valid phone number." } } : undefined));
    await ada.call.press('2');
    const refused = await ada.call.press('2');
    expect(heard(refused)).toMatch(/couldn't send your statement/);
    await ada.call.hangUp();

    // Grace: two accounts; the second one's balance, then the first one's previous statement (SMS refused too).
    const grace = await verifiedCall(t, '1', 'cust_002', '+14155550188');
    const balance = await grace.call.press('2');
    expect(heard(balance)).toContain('ending in 7 7 8 8');
    await grace.call.hangUp();
    // A forged webhook and a confirmation after hang-up: their refusals are logged too.
    const forged = await request(t.app).post('/twilio/voice').type('form').set('X-Twilio-Signature', 'forged').send({ CallSid: 'CA' + 'f'.repeat(32), From: '+14155550166', Digits: '123456' });
    watch('forged caller', '+14155550166');
    expect(forged.status).toBe(403);
    await watchTokens(t);

    // The bank down: the HTTP adapter against a fake core that answers 500 with the account number in its body.
    core = await startFakeCore();
    core.answer((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal', detail: 'account 4000123412349876 locked for +14155550101' }));
    });
    const bank = createHttpBank({ baseUrl: core.baseUrl, bearerToken: 'canary-core-bearer-token-11', timeoutMs: 200, retryDelayMs: 10 });
    watch('core banking bearer token', 'canary-core-bearer-token-11');
    down = await startTestApp({ env: SECRETS, overrides: { bank } });
    const sofia = await verifiedCall(down, '1', 'cust_003', '+13055550133');
    expect(heard(sofia.verified)).toMatch(/can't get your balance right now/);
    await sofia.call.hangUp();
    await watchTokens(down);
  });

  afterAll(async () => {
    await t?.close();
    await down?.close();
    await core?.close();
  });

  it('the run produced the values it watches for (so the check below is not empty)', () => {
    const labels = new Set(canaries.values());
    for (const label of ['DID', 'call token', 'link token', 'account of cust_001', 'mobile of cust_002', 'TWILIO_AUTH_TOKEN', 'token signing key (d)', 'presigned signature']) {
      expect(labels).toContain(label);
    }
    expect(t.rawLogs.length + down.rawLogs.length).toBeGreaterThan(20);
  });

  it('when every log line of the run is searched, then none of the watched values appears in any form', () => {
    const output = [...t.rawLogs, ...down.rawLogs].join('\n');
    const leaks: string[] = [];
    for (const [value, label] of canaries) {
      for (const form of forms(value)) if (output.includes(form)) leaks.push(`${label} (${form.length} chars)`);
    }
    expect(leaks).toEqual([]);
    // No compact JWS/JWT of any kind (call tokens, device confirmations) either.
    expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\./);
  });

  it('when the audit timelines of every call are read, then none of the watched values appears either', async () => {
    const leaks: string[] = [];
    for (const { app, callSid } of callSids) {
      const text = await timeline(app, callSid);
      for (const [value, label] of canaries) {
        for (const form of forms(value)) if (text.includes(form)) leaks.push(`${label} in the timeline of a call`);
      }
    }
    expect(leaks).toEqual([]);
  });

  it('when every row and column of the PostgreSQL audit table is read, then none of the watched values appears either', async () => {
    const leaks: string[] = [];
    let rows = 0;
    for (const app of [t, down]) {
      await app.built.deps.audit.drainNow();
      const table = await app.auditSql.query<Record<string, unknown>>('SELECT day::text, seq, id::text, at::text, type, call_id, customer_id, body::text, mac FROM audit_events');
      rows += table.length;
      const text = JSON.stringify(table);
      for (const [value, label] of canaries) {
        for (const form of forms(value)) if (text.includes(form)) leaks.push(`${label} in the audit table`);
      }
    }
    expect(rows).toBeGreaterThan(20);
    expect(leaks).toEqual([]);
  });
});
