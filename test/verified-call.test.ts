import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedisWithMovableClock, type ClockedRedis } from './support/store-clock.js';
import { caller, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { heard, parseTwiml } from './support/twiml.js';

async function events(t: TestApp, callSid: string): Promise<string[]> {
  const res = await request(t.app).get(`/admin/v1/calls/${callSid}/events`).set('Authorization', `Bearer ${t.adminKey}`);
  expect(res.status).toBe(200);
  return (res.body as { events: { type: string }[] }).events.map((e) => e.type);
}

describe('a verified call, through HTTP with real Redis and a Twilio REST stand-in', () => {
  let t: TestApp;
  // A code's life is the store's clock (DESIGN B2): time passes for the store and the app together.
  let store: ClockedRedis;
  beforeAll(async () => {
    store = await startRedisWithMovableClock();
  });
  afterAll(async () => {
    await store.stop();
  });
  const passTime = (ms: number) => {
    t.clock.advance(ms);
    store.advance(ms);
  };
  beforeEach(async () => {
    t = await startTestApp({ redisUrl: store.url });
    t.clock.set(Date.now() + store.offsetMs);
  });
  afterEach(async () => {
    await t.close();
  });

  it('when the caller chooses balance and the enrolled app confirms the spoken code, then the live call is redirected once to the verified branch', async () => {
    const device = await enrollDevice(t);
    const call = caller(t);
    const menu = await call.dial();
    expect(menu.gather?.numDigits).toBe(1);

    const wait = await call.press('1');
    const did = spokenCode(wait);
    expect(did).toMatch(/^\d{6}$/);
    // A3: the code is spoken in one Say that calls it a code, digits separated.
    expect(wait.says.some((s) => /code/i.test(s.text) && /\d[ ,]+\d/.test(s.text))).toBe(true);
    expect(wait.gather).toBeDefined();

    const confirmed = await device.confirm(did ?? '');
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toEqual({ status: 'confirmed' });

    const updates = t.twilioFake.callUpdates();
    expect(updates).toHaveLength(1);
    const update = updates[0];
    expect(update?.path).toBe(`/2010-04-01/Accounts/${t.config.twilio.accountSid}/Calls/${call.callSid}.json`);
    expect(update?.form.Method).toBe('POST');
    expect(update?.form.Url).toMatch(/^https:\/\/ivr\.bank\.test\/ivr\/twilio\//);

    const verified = await call.fetch(update?.form.Url ?? '');
    expect(heard(verified)).toMatch(/verified/i);
    expect(verified.gather).toBeDefined();

    expect(await events(t, call.callSid)).toEqual(
      expect.arrayContaining(['session_created', 'did_issued', 'confirmed', 'intercept_success']),
    );
    const metrics = await request(t.app).get('/metrics');
    expect(metrics.text).toMatch(/vaultline_confirm_to_redirect_ms_count 1/);
  });

  it('when 20 confirmations of one code race, then exactly one is accepted and the call is redirected once', async () => {
    const device = await enrollDevice(t);
    const call = caller(t);
    await call.dial();
    const did = spokenCode(await call.press('1')) ?? '';
    const answers = await Promise.all(Array.from({ length: 20 }, () => device.confirm(did)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 422)).toHaveLength(19);
    expect(t.twilioFake.callUpdates()).toHaveLength(1);
  });

  it('when 20 deliveries open verification for one call at once, then one session and one code exist', async () => {
    const call = caller(t);
    await call.dial();
    const action = call.last.gather?.action.replace('https://ivr.bank.test/ivr', '') ?? '';
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.twilioPost(action, { CallSid: call.callSid, Digits: '1', CallStatus: 'in-progress' }, { 'I-Twilio-Idempotency-Token': `tok-${i}` }),
      ),
    );
    const codes = new Set(answers.map((a) => spokenCode(parseTwiml(a.text))));
    expect(codes.size).toBe(1);
    expect([...codes][0]).toMatch(/^\d{6}$/);
    expect((await events(t, call.callSid)).filter((e) => e === 'session_created')).toHaveLength(1);
  });

  it('when Twilio delivers the same webhook twice with one idempotency token, then the TwiML is identical and one session exists', async () => {
    const call = caller(t);
    await call.dial();
    const action = call.last.gather?.action.replace('https://ivr.bank.test/ivr', '') ?? '';
    const params = { CallSid: call.callSid, Digits: '1', CallStatus: 'in-progress' };
    const first = await t.twilioPost(action, params, { 'I-Twilio-Idempotency-Token': 'same-token' });
    const second = await t.twilioPost(action, params, { 'I-Twilio-Idempotency-Token': 'same-token' });
    expect(second.text).toBe(first.text);
    expect((await events(t, call.callSid)).filter((e) => e === 'session_created')).toHaveLength(1);
  });

  it('when the redirect API keeps failing with 500, then it is retried and pressing 1 in the wait loop still reaches the verified branch', async () => {
    t.twilioFake.respond((r) => (r.path.includes('/Calls/') ? { status: 500, body: { code: 20500, message: 'Internal', status: 500 } } : undefined));
    const device = await enrollDevice(t);
    const call = caller(t);
    await call.dial();
    const did = spokenCode(await call.press('1')) ?? '';
    expect((await device.confirm(did)).status).toBe(200);
    expect(t.twilioFake.callUpdates().length).toBeGreaterThanOrEqual(3);
    const after = await call.press('1');
    expect(heard(after)).toMatch(/verified/i);
    expect(await events(t, call.callSid)).toContain('intercept_failed');
  });

  it('when the caller hangs up before the app confirms, then the confirmation is refused with 422 and nothing is redirected', async () => {
    const device = await enrollDevice(t);
    const call = caller(t);
    await call.dial();
    const did = spokenCode(await call.press('1')) ?? '';
    expect((await call.hangUp()).status).toBe(200);
    const res = await device.confirm(did);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: 'code_not_recognized' });
    expect(t.twilioFake.callUpdates()).toHaveLength(0);
    expect(await events(t, call.callSid)).toContain('call_ended');
  });

  it('when the caller cancels with 0, then the code is refused with 422', async () => {
    const device = await enrollDevice(t);
    const call = caller(t);
    await call.dial();
    const did = spokenCode(await call.press('1')) ?? '';
    const canceled = await call.press('0');
    expect(canceled.gather).toBeDefined();
    expect((await device.confirm(did)).status).toBe(422);
    expect(await events(t, call.callSid)).toContain('canceled');
  });

  it('when the caller presses 9, then the same code is spoken again', async () => {
    const call = caller(t);
    await call.dial();
    const did = spokenCode(await call.press('1'));
    expect(spokenCode(await call.press('9'))).toBe(did);
    expect(await events(t, call.callSid)).toContain('did_repeated');
  });

  it('when the code expires, then one new code is issued, and after that the caller goes to an agent unverified', async () => {
    const call = caller(t);
    await call.dial();
    const first = spokenCode(await call.press('1'));
    passTime(91_000);
    const second = spokenCode(await call.press('1'));
    expect(second).toMatch(/^\d{6}$/);
    expect(second).not.toBe(first);
    passTime(91_000);
    const fallback = await call.press('1');
    expect(fallback.enqueue).toMatch(/unverified/);
    expect(await events(t, call.callSid)).toEqual(expect.arrayContaining(['timeout', 'reissued']));
  });

  it('when a verified caller asks for a second protected action, then no second code is needed', async () => {
    const device = await enrollDevice(t);
    const call = caller(t);
    await call.dial();
    const did = spokenCode(await call.press('1')) ?? '';
    await device.confirm(did);
    await call.fetch(t.twilioFake.callUpdates()[0]?.form.Url ?? '');
    const again = await call.press('2');
    expect(spokenCode(again)).toBeUndefined();
    expect((await events(t, call.callSid)).filter((e) => e === 'session_created')).toHaveLength(1);
  });
});
