import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caller, PUBLIC_BASE_URL, spokenCode, startTestApp, type SentWebhook, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { heard, parseTwiml } from './support/twiml.js';

/**
 * Issue 11 item 2 (DESIGN A3): a signed webhook captured during a verified call and replayed after
 * newer turns — byte for byte, with a fresh idempotency token or with none — has no effect at all and
 * answers only a redirect to the call's current turn.
 */

/**
 * Every key under the app's prefix with its value, type-aware, so "no state change" covers all of it;
 * except the audit outbox, whose events are in transit to the trail (the timeline check covers them).
 */
async function snapshot(t: TestApp): Promise<Map<string, string>> {
  const redis = t.built.deps.store.redis;
  const out = new Map<string, string>();
  for (const key of (await redis.keys(`${t.config.keyPrefix}*`)).sort()) {
    if (key.startsWith(`${t.config.keyPrefix}audit:`)) continue;
    const type = await redis.type(key);
    if (type === 'string') out.set(key, (await redis.get(key)) ?? '');
    else if (type === 'hash') out.set(key, JSON.stringify(Object.entries(await redis.hgetall(key)).sort()));
    else if (type === 'list') out.set(key, JSON.stringify(await redis.lrange(key, 0, -1)));
    else if (type === 'zset') out.set(key, JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES')));
    else if (type === 'set') out.set(key, JSON.stringify((await redis.smembers(key)).sort()));
    else out.set(key, type);
  }
  return out;
}

const timeline = async (t: TestApp, callSid: string) => ((await t.built.deps.audit.timeline(callSid)) ?? []).map((e) => e.type);

const MAIN_MENU = /For your account balance, press 1/;

/** A whole verified call: the balance (one code, confirmed on the device), then the statement SMS, then (by default) newer turns. */
async function verifiedCallWithBalanceAndStatement(t: TestApp, opts: { newerTurns?: boolean } = {}) {
  const device = await enrollDevice(t);
  const call = caller(t);
  await call.dial();
  const wait = await call.press('1');
  const did = spokenCode(wait) ?? '';
  expect(did).toMatch(/^\d{6}$/);
  expect((await device.confirm(did)).status).toBe(200);
  const update = t.twilioFake.callUpdates()[0];
  const verified = await call.fetch(update?.form.Url ?? '');
  const balanceSpeech = heard(verified);
  expect(balanceSpeech).toContain('your available balance is $1,250.50');
  expect(heard(await call.press('2'))).toMatch(/For October 2026, press 1/);
  expect(heard(await call.press('1'))).toMatch(/sent a link to your mobile/);
  expect(t.twilioFake.messages()).toHaveLength(1);
  if (opts.newerTurns !== false) {
    // Newer turns at the main menu: every request above is now for an earlier turn.
    await call.press('7');
    await call.silence();
  }
  return { call, did };
}

/** No code and no customer data: nothing said at all, no Gather, only where the call is now. */
function expectOnlyARedirect(text: string, did: string) {
  const twiml = parseTwiml(text);
  expect(twiml.says).toEqual([]);
  expect(twiml.gather).toBeUndefined();
  expect(twiml.enqueue).toBeUndefined();
  expect(twiml.redirect).toMatch(new RegExp(`^${PUBLIC_BASE_URL.replace(/[.]/g, '\\.')}/twilio/resume\\?t=\\d+$`));
  expect(text).not.toContain(did);
  expect(text).not.toContain(did.split('').join(', '));
  expect(text).not.toMatch(/1,?250|9876|0101/);
}

describe('webhook replays after newer turns (DESIGN A3, issue 11 item 2)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('when every signed step of a verified call is replayed after newer turns, with its own, a fresh or no idempotency token, then no SMS, no balance, no code, no state change and no audit event, one log line each', async () => {
    const { call, did } = await verifiedCallWithBalanceAndStatement(t);
    const latest = call.sent.at(-1) as SentWebhook;
    const captured = call.sent.slice(0, -1);
    // The voice flow's first webhook, the code turn, the intercept's /verified, the statement turns.
    expect(captured.map((s) => s.path.replace(/\?.*/, ''))).toEqual(expect.arrayContaining(['/twilio/voice', '/twilio/step', '/twilio/verified']));
    const before = await snapshot(t);
    const eventsBefore = await timeline(t, call.callSid);
    const smsBefore = t.twilioFake.messages().length;
    const updatesBefore = t.twilioFake.callUpdates().length;
    const logsBefore = t.rawLogs.length;

    const variants: ((s: SentWebhook) => Record<string, string>)[] = [
      (s) => s.headers,
      () => ({ 'I-Twilio-Idempotency-Token': randomUUID() }),
      () => ({}),
    ];
    let replays = 0;
    for (const headersOf of variants) {
      for (const s of captured) {
        const res = await t.twilioPost(s.path, s.params, headersOf(s));
        replays += 1;
        expect(res.status, s.path).toBe(200);
        expect(String(res.headers['content-type'])).toMatch(/^text\/xml/);
        expectOnlyARedirect(res.text, did);
      }
    }

    expect(t.twilioFake.messages()).toHaveLength(smsBefore);
    expect(t.twilioFake.callUpdates()).toHaveLength(updatesBefore);
    expect(await timeline(t, call.callSid)).toEqual(eventsBefore);
    expect(await snapshot(t)).toEqual(before);
    // The audit drainer logs each day's chain head whenever it moves events: not a line of the turns.
    const lines = t.logs.slice(logsBefore).filter((l) => l.msg !== 'audit chain head');
    expect(lines.map((l) => l.msg)).toEqual(Array.from({ length: replays }, () => 'stale webhook: answered with the current turn, nothing ran'));
    expect(t.rawLogs.slice(logsBefore).join('\n')).not.toContain(did);

    // The latest delivery is still answered as before: its retry replays the answer byte for byte.
    const retry = await t.twilioPost(latest.path, latest.params, latest.headers);
    expect(retry.text).toBe(latest.text);
  });

  it('when the latest webhook is re-posted without its idempotency token or with another one, then the answer is byte-identical and nothing runs twice', async () => {
    // The latest delivery is the statement turn, whose effect (an SMS) must not happen twice.
    const { call } = await verifiedCallWithBalanceAndStatement(t, { newerTurns: false });
    const latest = call.sent.at(-1) as SentWebhook;
    expect(heard(parseTwiml(latest.text))).toMatch(/sent a link to your mobile/);
    const before = await snapshot(t);
    const eventsBefore = await timeline(t, call.callSid);
    const withoutToken = await t.twilioPost(latest.path, latest.params);
    const otherToken = await t.twilioPost(latest.path, latest.params, { 'I-Twilio-Idempotency-Token': randomUUID() });
    expect(withoutToken.text).toBe(latest.text);
    expect(otherToken.text).toBe(latest.text);
    expect(t.twilioFake.messages()).toHaveLength(1);
    expect(await timeline(t, call.callSid)).toEqual(eventsBefore);
    expect(await snapshot(t)).toEqual(before);
  });

  it('when a request carries the latest delivery\'s idempotency token but other parameters, then it is not taken for that delivery', async () => {
    const call = caller(t);
    await call.dial();
    const menu = call.sent[0] as SentWebhook;
    const action = call.last.gather?.action.slice(PUBLIC_BASE_URL.length) ?? '';
    // The same token on a different request (the current turn, pressing 1) runs that request.
    const res = await t.twilioPost(action, { ...menu.params, Digits: '1' }, menu.headers);
    expect(res.text).not.toBe(menu.text);
    expect(spokenCode(parseTwiml(res.text))).toMatch(/^\d{6}$/);
  });

  it('when Twilio follows the redirect a stale webhook answered, then the caller is at the current step, hears no code, and the call goes on', async () => {
    const { call, did } = await verifiedCallWithBalanceAndStatement(t);
    const codeTurn = call.sent[1] as SentWebhook;
    const stale = parseTwiml((await t.twilioPost(codeTurn.path, codeTurn.params)).text);
    const current = await call.fetch(stale.redirect ?? '');
    expect(heard(current)).toMatch(MAIN_MENU);
    expect(current.raw).not.toContain(did);
    // Still verified for this call (A3): the next action needs no second code.
    expect(heard(await call.press('1'))).toContain('your available balance is $1,250.50');
    expect(spokenCode(call.last)).toBeUndefined();
  });

  it('when a step URL names a turn that is not a number or is ahead of the call, then nothing runs', async () => {
    const call = caller(t);
    await call.dial();
    const base = call.sent[0]?.params ?? {};
    const before = await snapshot(t);
    for (const path of ['/twilio/step?t=abc', '/twilio/step?t=99', '/twilio/step', '/twilio/step?t=1&t=1', '/twilio/verified?s=ses_unknown']) {
      const res = await t.twilioPost(path, { ...base, Digits: '1' });
      expect(res.status, path).toBe(200);
      expect(parseTwiml(res.text).says, path).toEqual([]);
    }
    expect(await snapshot(t)).toEqual(before);
    expect(await timeline(t, call.callSid)).not.toContain('session_created');
  });
});
