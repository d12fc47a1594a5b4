import { readFileSync } from 'node:fs';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHttpBank } from '../src/banking/http-bank.js';
import { createLogger } from '../src/log/logger.js';
import { caller, PUBLIC_BASE_URL, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { healthy, startFakeCore, type FakeCore } from './support/core-bank-fake.js';
import { freePort } from '../scripts/lib/redis-server.js';
import { heard } from './support/twiml.js';

/** Issue 3 acceptance: whole verified calls reaching the protected actions, through HTTP, real Redis. */

async function events(t: TestApp, callSid: string): Promise<{ type: string; reason?: string; period?: string }[]> {
  const res = await request(t.app).get(`/admin/v1/calls/${callSid}/events`).set('Authorization', `Bearer ${t.adminKey}`);
  expect(res.status).toBe(200);
  return (res.body as { events: { type: string; reason?: string; period?: string }[] }).events;
}

/** Dials, chooses `option` at the main menu, confirms the spoken code on the customer's device, follows the redirect. */
async function verifiedCall(t: TestApp, option: '1' | '2', customerId = 'cust_001', from = '+14155550999') {
  const device = await enrollDevice(t, customerId);
  const call = caller(t, { from });
  await call.dial();
  const wait = await call.press(option);
  const did = spokenCode(wait);
  expect(did).toMatch(/^\d{6}$/);
  const confirmed = await device.confirm(did ?? '');
  expect(confirmed.status).toBe(200);
  const update = t.twilioFake.callUpdates().find((u) => u.path.endsWith(`/Calls/${call.callSid}.json`));
  expect(update?.form.Url).toBeDefined();
  const verified = await call.fetch(update?.form.Url ?? '');
  return { call, did: did ?? '', verified };
}

/** The link in a statement SMS, as a path under PUBLIC_BASE_URL. */
function linkPath(body: string): string {
  const m = new RegExp(`${PUBLIC_BASE_URL.replace(/[.]/g, '\\.')}(/s/[A-Za-z0-9_-]+)`).exec(body);
  if (!m?.[1]) throw new Error('no statement link in the SMS body');
  return m[1];
}

const MAIN_MENU = /For your account balance, press 1/;

describe('a verified call reaching the protected actions (demo bank, local statement store)', () => {
  let t: TestApp | undefined;
  let core: FakeCore | undefined;
  afterEach(async () => {
    await t?.close();
    await core?.close();
    t = undefined;
    core = undefined;
  });

  it('when a one-account customer asks for the balance, then the redirected call hears it masked and goes back to the menu', async () => {
    t = await startTestApp();
    const { call, verified } = await verifiedCall(t, '1');
    const said = heard(verified);
    expect(said).toMatch(/you are verified/i);
    expect(said).toContain('For account ending in 9 8 7 6, your available balance is $1,250.50.');
    expect(said).toMatch(MAIN_MENU);
    expect(verified.gather).toBeDefined();
    expect(verified.raw).not.toMatch(/4000\s*1234|12349876|400012341234/);
    expect((await events(t, call.callSid)).map((e) => e.type)).toEqual(expect.arrayContaining(['confirmed', 'token_issued', 'balance_read']));
  });

  it('when a two-account customer asks for the balance, then each account is offered by its last four and the chosen one is read', async () => {
    t = await startTestApp();
    const { call, verified } = await verifiedCall(t, '1', 'cust_002', '+14155550998');
    const said = heard(verified);
    expect(said).toContain('For account ending in 5 5 5 5, press 1.');
    expect(said).toContain('For account ending in 7 7 8 8, press 2.');
    expect(said).not.toMatch(/balance is/);

    const second = await call.press('2');
    expect(heard(second)).toContain('For account ending in 7 7 8 8, your available balance is $15,020.00.');
    expect(heard(second)).toMatch(MAIN_MENU);

    // Asking again needs no second code, and a position the customer does not have is refused in words.
    await call.press('1');
    const retry = await call.press('7');
    expect(heard(retry)).toMatch(/not one of your accounts/);
    const first = await call.press('1');
    expect(heard(first)).toContain('For account ending in 5 5 5 5, your available balance is $842.17.');
    expect(t.twilioFake.callUpdates()).toHaveLength(1);
  });

  it('when the caller asks for the statement, then the SMS goes to the mobile on file and its link shows a page, downloads the PDF once, then answers 410', async () => {
    t = await startTestApp();
    const { call, verified } = await verifiedCall(t, '2', 'cust_001', '+14155550999');
    expect(heard(verified)).toMatch(/For October 2026, press 1\./);
    const sent = await call.press('1');
    expect(heard(sent)).toContain("We've sent a link to your mobile ending in 0 1 0 1.");
    expect(heard(sent)).toMatch(MAIN_MENU);

    const messages = t.twilioFake.messages();
    expect(messages).toHaveLength(1);
    const sms = messages[0];
    expect(sms?.form.To).toBe('+14155550101'); // the mobile on file, not the calling number
    expect(sms?.form.To).not.toBe('+14155550999');
    expect(sms?.form.From ?? sms?.form.MessagingServiceSid).toBe(t.config.twilio.smsFrom);
    const body = sms?.form.Body ?? '';
    // A8: the bank, the period and the link, nothing else.
    expect(body).toMatch(/^Vaultline Bank: your October 2026 statement: https:\/\/ivr\.bank\.test\/ivr\/s\/[A-Za-z0-9_-]{22,} \(single use, expires in 10 min\)$/);
    const path = linkPath(body);
    expect(Buffer.from(path.slice(3), 'base64url').length * 8).toBeGreaterThanOrEqual(128);

    const page = await request(t.app).get(path);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<form method="post">/);

    const spend = await request(t.app).post(path).type('form').send('');
    expect(spend.status).toBe(303);
    const location = String(spend.headers.location);
    expect(location.startsWith(`${PUBLIC_BASE_URL}/statements/local/`)).toBe(true);
    const pdf = await request(t.app)
      .get(location.slice(PUBLIC_BASE_URL.length))
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(pdf.status).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.headers['content-disposition']).toMatch(/^attachment/);
    expect(Buffer.compare(pdf.body as Buffer, readFileSync('data/statements/cust_001/acc_001/2026-10.pdf'))).toBe(0);

    expect((await request(t.app).post(path).type('form').send('')).status).toBe(410);
    expect((await request(t.app).get(path)).status).toBe(410);
    expect((await events(t, call.callSid)).map((e) => e.type)).toEqual(
      expect.arrayContaining(['statement_link_issued', 'statement_sms_sent', 'statement_link_spent', 'statement_link_refused']),
    );
  });

  it('when the caller picks the second month offered, then the link is for that statement', async () => {
    t = await startTestApp();
    const { call } = await verifiedCall(t, '2');
    await call.press('2');
    const body = t.twilioFake.messages()[0]?.form.Body ?? '';
    expect(body).toMatch(/September 2026/);
    const spend = await request(t.app).post(linkPath(body)).type('form').send('');
    expect(spend.status).toBe(303);
    const pdf = await request(t.app).get(String(spend.headers.location).slice(PUBLIC_BASE_URL.length));
    expect(pdf.status).toBe(200);
    expect(Number(pdf.headers['content-length'])).toBe(readFileSync('data/statements/cust_001/acc_001/2026-09.pdf').length);
  });

  it('when Twilio refuses the SMS, then the caller hears so, stays in the call, and the link is revoked', async () => {
    t = await startTestApp();
    t.twilioFake.respond((r) => (r.path.endsWith('/Messages.json') ? { status: 500, body: { code: 20500, message: 'Internal Server Error' } } : undefined));
    const { call, verified } = await verifiedCall(t, '2');
    expect(heard(verified)).toMatch(/For October 2026, press 1/);
    const failed = await call.press('1');
    expect(heard(failed)).toMatch(/couldn't send your statement/);
    expect(heard(failed)).toMatch(MAIN_MENU);
    expect(failed.hangup).toBe(false);
    expect(failed.enqueue).toBeUndefined();

    const attempted = t.twilioFake.messages();
    expect(attempted.length).toBeGreaterThanOrEqual(1);
    // The link that was in the undelivered text no longer works.
    expect((await request(t.app).post(linkPath(attempted[0]?.form.Body ?? '')).type('form').send('')).status).toBe(410);
    const refused = (await events(t, call.callSid)).filter((e) => e.type === 'statement_link_refused');
    expect(refused.map((e) => e.reason)).toContain('sms_failed');
    expect((await events(t, call.callSid)).map((e) => e.type)).not.toContain('statement_sms_sent');
  });

  it('when the statement store (S3) cannot be reached, then /readyz says so, no link is issued and no SMS is sent, and the call goes on', async () => {
    // Credentials from the environment, so the SDK never goes looking for instance metadata.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test-access-key');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test-secret-key');
    try {
      const deadPort = await freePort(); // nothing listens there
      t = await startTestApp({ env: { S3_BUCKET: 'statements', S3_ENDPOINT: `http://127.0.0.1:${deadPort}`, S3_FORCE_PATH_STYLE: 'true' } });
      const ready = await request(t.app).get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({ status: 'not_ready', checks: { store: 'ok', statements: 'unavailable', auditTrail: 'ok' } });

      const { call } = await verifiedCall(t, '2');
      const failed = await call.press('1');
      expect(heard(failed)).toMatch(/couldn't send your statement/);
      expect(failed.gather).toBeDefined();
      expect(failed.enqueue).toBeUndefined();
      expect(t.twilioFake.messages()).toHaveLength(0);
      expect((await events(t, call.callSid)).map((e) => e.type)).not.toContain('statement_link_issued');
      // The balance does not need the store and still works on the same call.
      await call.press('1');
      expect(heard(call.last)).toContain('your available balance is $1,250.50.');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  describe('when the core banking system is slow or down (HTTP adapter, 200 ms timeout, against a local fake core)', () => {
    const start = async (handler: Parameters<FakeCore['answer']>[0] | 'closed') => {
      core = await startFakeCore();
      const logger = createLogger({ level: 'silent' });
      const bank = createHttpBank({ baseUrl: core.baseUrl, bearerToken: 'core-token-for-tests', timeoutMs: 200, retryDelayMs: 10, logger });
      if (handler === 'closed') await core.close();
      else core.answer(handler);
      return startTestApp({ overrides: { bank } });
    };

    it('when the balance answer is slower than the timeout, then the caller hears the apology, back at the menu, call kept', async () => {
      t = await start((req, res) => {
        if ((req.url ?? '').endsWith('/balance')) return void setTimeout(() => healthy(req, res), 1000).unref();
        healthy(req, res);
      });
      const { call, verified } = await verifiedCall(t, '1');
      expect(heard(verified)).toContain("Sorry, we can't get your balance right now.");
      expect(heard(verified)).toMatch(MAIN_MENU);
      expect(verified.hangup).toBe(false);
      expect(verified.enqueue).toBeUndefined();
      // Still in the call: the menu works, and the agent is one key away.
      const agent = await call.press('0');
      expect(agent.enqueue).toBeDefined();
    });

    it('when the core is down (nothing listens), then the caller hears the apology, back at the menu, call kept', async () => {
      t = await start('closed');
      const { call, verified } = await verifiedCall(t, '1');
      expect(heard(verified)).toContain("Sorry, we can't get your balance right now.");
      expect(verified.gather).toBeDefined();
      expect(verified.enqueue).toBeUndefined();
      expect((await events(t, call.callSid)).map((e) => e.type)).not.toContain('balance_read');
    });

    it('when the core answers 503 to the statement list, then no link is issued and no SMS is sent', async () => {
      t = await start((req, res) => {
        if ((req.url ?? '').endsWith('/statements')) {
          res.writeHead(503, { 'content-type': 'application/json' });
          return void res.end('{"error":"maintenance"}');
        }
        healthy(req, res);
      });
      // The month question needs the list: with the list down the apology comes at once.
      const { call, verified: failed } = await verifiedCall(t, '2');
      expect(heard(failed)).toMatch(/couldn't send your statement/);
      expect(failed.gather).toBeDefined();
      expect(t.twilioFake.messages()).toHaveLength(0);
      expect((await events(t, call.callSid)).map((e) => e.type)).not.toContain('statement_link_issued');
    });
  });
});
