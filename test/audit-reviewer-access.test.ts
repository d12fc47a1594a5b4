import { readFileSync } from 'node:fs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../src/audit/events.js';
import { createSignInLimit } from '../src/console/sign-in-limit.js';
import { createKeys } from '../src/store/keys.js';
import { caller, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { auditSchemaValidator } from './support/audit-schemas.js';
import { enrollDevice } from './support/authenticator.js';
import { makeTestDevice } from './support/device.js';

/**
 * Issue 14 item 5 (DESIGN A11): named reviewers (AUDIT_REVIEWERS) read and export the trail and do
 * nothing else; every read by a reviewer or the admin is an event naming who, from where (TRUST_PROXY)
 * and what; and nothing a whole run touched that is sensitive reaches the trail's table or an export.
 */

const ALICE = 'alice-secret-7Hq2pZr9Wc4x';
const BOB = 'bob.k-secret-Jm5Ns8Vb1Lq3';
const ENV = {
  AUDIT_REVIEWERS: `alice:${ALICE},bob.k:${BOB}`,
  TRUST_PROXY: '1',
  ADMIN_API_KEY: 'reviewer-test-admin-key-4Fd8Kp',
  DATA_SECRET: 'reviewer-test-data-secret-9Xw2Rt6Yb3Nq5Lm8',
  TWILIO_AUTH_TOKEN: 'reviewer-test-twilio-token-2Gh7',
};
const ALICE_AT = '198.51.100.23';
const basic = (name: string, secret: string) => `Basic ${Buffer.from(`${name}:${secret}`).toString('base64')}`;
const alice = { Authorization: basic('alice', ALICE), 'X-Forwarded-For': ALICE_AT };
const valid = auditSchemaValidator();

let t: TestApp;
let callSid = '';
const canaries = new Map<string, string>();
const watch = (label: string, value: string | undefined) => {
  if (value && value.length >= 4) canaries.set(value, label);
};

/** The forms a leak would take: the value, and for a number its digits, spaced or grouped; short numbers only as a whole. */
function leaksIn(text: string): string[] {
  const found: string[] = [];
  for (const [value, label] of canaries) {
    const forms = [value];
    if (/^\+?\d{6,}$/.test(value)) {
      const digits = value.replace(/\D/g, '');
      forms.push(digits, [...digits].join(' '), digits.replace(/(\d{4})(?=\d)/g, '$1-'));
      if (digits.length >= 12) forms.push(digits.slice(0, -4));
    }
    // A code of six digits may occur by chance inside a UUID: only a free-standing one is a leak.
    const hit = (f: string) => (/^\d{1,10}$/.test(f) ? new RegExp(`(?<![0-9A-Za-z])${f}(?![0-9A-Za-z])`).test(text) : text.includes(f));
    for (const f of forms) if (hit(f)) found.push(`${label} (${f.length} chars)`);
  }
  return found;
}

async function exportText(headers: Record<string, string>, from: string, to: string): Promise<request.Response> {
  return request(t.app)
    .get('/admin/v1/audit/export')
    .query({ from, to })
    .set(headers)
    .buffer(true)
    .parse((res, cb) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => cb(null, text));
    });
}

/** The audit reads recorded so far, from the trail's table. */
async function reads(): Promise<AuditEvent[]> {
  await t.built.deps.audit.drainNow();
  const rows = await t.auditSql.query<{ body: AuditEvent }>(`SELECT body FROM audit_events WHERE type IN ('audit_viewed', 'audit_exported') ORDER BY at, seq`);
  return rows.map((r) => r.body);
}

beforeAll(async () => {
  t = await startTestApp({ env: ENV });
  interface DemoBank {
    customers: { id: string; mobile: string; accounts: { number: string }[] }[];
  }
  for (const c of (JSON.parse(readFileSync('data/demo-bank.json', 'utf8')) as DemoBank).customers) {
    watch(`mobile of ${c.id}`, c.mobile);
    for (const a of c.accounts) watch(`account of ${c.id}`, a.number);
  }
  for (const [k, v] of Object.entries(ENV)) if (k !== 'TRUST_PROXY' && k !== 'AUDIT_REVIEWERS') watch(k, v);
  watch('reviewer secret', ALICE);
  watch('reviewer secret', BOB);
  watch('bank line number', '+18005550199');
  // A whole verified call: balance, then the statement by SMS, then hang-up.
  const device = await enrollDevice(t);
  const call = caller(t, { from: '+14155550144' });
  watch('caller number', '+14155550144');
  callSid = call.callSid;
  await call.dial();
  const did = spokenCode(await call.press('1')) ?? '';
  watch('DID', did);
  expect((await device.confirm(did)).status).toBe(200);
  const update = t.twilioFake.callUpdates().find((u) => u.path.endsWith(`/Calls/${call.callSid}.json`));
  watch('redirect URL', update?.form.Url);
  await call.fetch(update?.form.Url ?? '');
  await call.press('2');
  await call.press('1');
  await call.hangUp();
  for (const m of t.twilioFake.messages()) {
    watch('link token', /\/s\/([A-Za-z0-9_-]+)/.exec(m.form.Body ?? '')?.[1]);
    watch('SMS body', m.form.Body);
  }
  await t.built.deps.audit.drainNow();
  const timeline = await request(t.app).get(`/admin/v1/calls/${callSid}/events`).set('Authorization', `Bearer ${t.adminKey}`);
  for (const sessionId of new Set((timeline.body as { events: { sessionId?: string }[] }).events.map((e) => e.sessionId).filter((s): s is string => !!s))) {
    watch('call token', (await t.built.deps.sessions.tokenOf(sessionId)) ?? undefined);
  }
}, 120_000);
afterAll(async () => {
  await t?.close();
});

const hourAgo = () => new Date(Date.now() - 3_600_000).toISOString();
const soon = () => new Date(Date.now() + 3_600_000).toISOString();

describe('a named reviewer', () => {
  it('when alice searches, opens a timeline, exports and verifies, then each answers 200 and each read is an event with her name and address', async () => {
    const from = hourAgo();
    const to = soon();
    const before = (await reads()).length;

    const search = await request(t.app).get('/admin/v1/calls').query({ from, outcome: 'contained' }).set(alice);
    expect(search.status).toBe(200);
    expect((search.body as { calls: { callId: string }[] }).calls.map((c) => c.callId)).toContain(callSid);
    const timeline = await request(t.app).get(`/admin/v1/calls/${callSid}/events`).set(alice);
    expect(timeline.status).toBe(200);
    const exported = await exportText(alice, from, to);
    expect(exported.status).toBe(200);
    expect(String(exported.body).trimEnd().split('\n').at(-1)).toMatch(/^\{"type":"export_end","count":\d+\}$/);
    const verify = await request(t.app).get('/admin/v1/audit/verify').query({ from, to }).set(alice);
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({ ok: true });

    const recorded = (await reads()).slice(before);
    const by = { actor: { type: 'reviewer', id: 'alice' }, sourceIp: ALICE_AT };
    expect(recorded).toEqual([
      expect.objectContaining({ type: 'audit_viewed', subject: `calls?from=${from}&outcome=contained`, count: expect.any(Number), ...by }),
      expect.objectContaining({ type: 'audit_viewed', subject: `call:${callSid}`, count: (timeline.body as { events: unknown[] }).events.length, ...by }),
      expect.objectContaining({ type: 'audit_exported', subject: `export:${from}/${to}`, ...by }),
      expect.objectContaining({ type: 'audit_viewed', subject: `verify:${from}/${to}`, count: (verify.body as { checked: number }).checked, ...by }),
    ]);
    for (const e of recorded) {
      expect(valid(e)).toEqual([]);
      expect(e).not.toHaveProperty('callId');
    }
    // Reads are in no call's timeline, and the log line names the reviewer too (SIEM).
    const after = await request(t.app).get(`/admin/v1/calls/${callSid}/events`).set(alice);
    expect((after.body as { events: AuditEvent[] }).events.map((e) => e.type)).not.toContain('audit_viewed');
    expect(t.logs.some((l) => l['event.action'] === 'audit_exported' && l['actor.type'] === 'reviewer' && l['actor.id'] === 'alice' && l['source.ip'] === ALICE_AT)).toBe(true);
  });

  it('when a reviewer tries to enrol or revoke a device, or to use the provider API, then every answer is 401 and nothing changes', async () => {
    const enrolled = async () => (await t.auditSql.query<{ n: string }>(`SELECT count(*) AS n FROM audit_events WHERE type IN ('device_enrolled', 'device_revoked')`))[0]?.n;
    await t.built.deps.audit.drainNow();
    const devicesBefore = await enrolled();
    const { publicJwk } = await makeTestDevice();
    const device = await enrollDevice(t);

    const enrol = await request(t.app).post('/admin/v1/devices').set(alice).send({ customerId: 'cust_001', publicJwk, label: 'reviewer phone' });
    expect(enrol.status).toBe(401);
    expect(enrol.body).toEqual({ error: 'unauthorized', message: expect.any(String) });
    expect(enrol.headers['www-authenticate']).toBe('Bearer');
    expect((await request(t.app).delete(`/admin/v1/devices/${device.deviceId}`).set(alice)).status).toBe(401);
    const session = await request(t.app).post('/api/v1/sessions').set(alice).send({ provider: 'genesys-cloud', callId: 'reviewer-call-1' });
    expect(session.status).toBe(401);
    expect((await request(t.app).post('/api/v1/calls/reviewer-call-1/end').set(alice)).status).toBe(401);
    expect((await request(t.app).get('/api/v1/sessions/ses_AAAAAAAAAAAAAAAAAAAAAA_reviewer1').set(alice)).status).toBe(401);
    expect((await request(t.app).get('/api/v1/calls/reviewer-call-1/verification').set(alice)).status).toBe(401);

    await t.built.deps.audit.drainNow();
    // Only the admin's own enrolment above was recorded; the device is still there.
    expect(Number(await enrolled())).toBe(Number(devicesBefore) + 1);
    expect(await t.built.deps.devices.get(device.deviceId)).toBeDefined();
    expect((await request(t.app).get('/admin/v1/calls/reviewer-call-1/events').set('Authorization', `Bearer ${t.adminKey}`)).status).toBe(404);
  });

  it('when the name or the secret is wrong, then both answer the same 401, naming neither, and the log holds no credential', async () => {
    const wrongSecret = await request(t.app).get('/admin/v1/calls').set({ Authorization: basic('alice', BOB), 'X-Forwarded-For': '203.0.113.9' });
    const wrongName = await request(t.app).get('/admin/v1/calls').set({ Authorization: basic('mallory', ALICE), 'X-Forwarded-For': '203.0.113.9' });
    const none = await request(t.app).get('/admin/v1/calls');

    for (const res of [wrongSecret, wrongName, none]) {
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer, Basic realm="vaultline-audit"/);
    }
    expect(wrongName.body).toEqual(wrongSecret.body);
    const refusals = t.logs.filter((l) => l.msg === 'API request refused' && String(l.path).startsWith('/admin/v1/'));
    expect(refusals.length).toBeGreaterThanOrEqual(3);
    const logs = t.rawLogs.join('\n');
    expect(logs).not.toContain(ALICE);
    expect(logs).not.toContain(BOB);
    expect(logs).not.toContain('mallory');
  });

  it('when bob.k\'s secret is guessed 10 times, then the 11th try is 429 even with the right secret, from anywhere, until the window passes; alice still reads', async () => {
    const guess = (i: number) => ({ Authorization: basic('bob.k', `guess-${i}-0000000000`), 'X-Forwarded-For': `203.0.113.${100 + i}` });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await request(t.app).get('/admin/v1/calls').set(guess(i))).status);
    expect(statuses).toEqual(Array.from({ length: 10 }, () => 401));

    const right = await request(t.app).get('/admin/v1/calls').set({ Authorization: basic('bob.k', BOB), 'X-Forwarded-For': '192.0.2.77' });
    expect(right.status).toBe(429);
    expect(right.body).toEqual({ error: 'locked', message: expect.any(String) });
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
    // The console's sign-in counts the same failures: one budget per reviewer, however it is tried.
    const consoleLimit = createSignInLimit({ redis: t.built.deps.store.redis, keys: createKeys(t.config.keyPrefix), clock: t.clock });
    await expect(consoleLimit.reserve('bob.k', '192.0.2.78')).rejects.toMatchObject({ code: 'locked' });
    expect((await request(t.app).get('/admin/v1/calls').query({ from: hourAgo() }).set(alice)).status).toBe(200);

    t.clock.advance(15 * 60_000);
    expect((await request(t.app).get('/admin/v1/calls').set({ Authorization: basic('bob.k', BOB), 'X-Forwarded-For': '192.0.2.77' })).status).toBe(200);
  });

  it('when one address tries 10 made-up names, then that address is locked out, the right secret included, and alice from elsewhere still reads', async () => {
    const from = { 'X-Forwarded-For': '203.0.113.66' };
    for (let i = 0; i < 10; i++) expect((await request(t.app).get('/admin/v1/calls').set({ ...from, Authorization: basic(`user${i}`, 'x'.repeat(20)) })).status).toBe(401);

    expect((await request(t.app).get('/admin/v1/calls').set({ ...from, Authorization: basic('alice', ALICE) })).status).toBe(429);
    expect((await request(t.app).get('/admin/v1/calls').query({ from: hourAgo() }).set(alice)).status).toBe(200);
  });
});

describe('the admin key', () => {
  it('when the admin reads and exports, then it still works for everything and each read names admin as the actor', async () => {
    const before = (await reads()).length;
    const admin = { Authorization: `Bearer ${t.adminKey}`, 'X-Forwarded-For': '192.0.2.10' };

    expect((await request(t.app).get('/admin/v1/calls').set(admin)).status).toBe(200);
    expect((await exportText(admin, hourAgo(), soon())).status).toBe(200);

    const recorded = (await reads()).slice(before);
    expect(recorded.map((e) => [e.type, (e as { subject: string }).subject.split(/[?:]/)[0], (e as { actor: object }).actor, (e as { sourceIp: string }).sourceIp])).toEqual([
      ['audit_viewed', 'calls', { type: 'admin', id: 'admin' }, '192.0.2.10'],
      ['audit_exported', 'export', { type: 'admin', id: 'admin' }, '192.0.2.10'],
    ]);
  });
});

describe('canary: nothing sensitive in the trail or its exports', () => {
  it('the run produced the values it watches for (so the scan below is not empty)', () => {
    const labels = new Set(canaries.values());
    for (const label of ['DID', 'call token', 'link token', 'caller number', 'account of cust_001', 'reviewer secret', 'ADMIN_API_KEY', 'DATA_SECRET']) expect(labels).toContain(label);
  });

  it('when every row of the PostgreSQL table, an export by the reviewer and an export by the admin are read, then no watched value appears in any form', async () => {
    await t.built.deps.audit.drainNow();
    const table = await t.auditSql.query<Record<string, unknown>>('SELECT day::text, seq, id::text, at::text, type, call_id, customer_id, body::text, mac FROM audit_events');
    expect(table.length).toBeGreaterThan(15);
    expect(leaksIn(JSON.stringify(table))).toEqual([]);

    for (const headers of [alice, { Authorization: `Bearer ${t.adminKey}` }]) {
      const exported = await exportText(headers, hourAgo(), soon());
      const text = String(exported.body);
      expect(text.split('\n').length).toBeGreaterThan(15);
      expect(text).toContain('"statement_sms_sent"');
      expect(leaksIn(text)).toEqual([]);
      expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\./);
    }
    const search = await request(t.app).get('/admin/v1/calls').query({ from: hourAgo() }).set(alice);
    expect(leaksIn(search.text)).toEqual([]);
  });
});
