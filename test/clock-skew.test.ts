import { generateKeyPairSync } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import request from 'supertest';
import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { buildDeps, type Built } from '../src/compose.js';
import { manualClock } from '../src/shared/clock.js';
import { PUBLIC_BASE_URL, newCallSid, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { startRedisWithMovableClock, type ClockedRedis } from './support/store-clock.js';
import { heard, parseTwiml, type ParsedTwiml } from './support/twiml.js';

/**
 * DESIGN B2: a code's and a session's life is the store's clock, so app instances whose clocks
 * differ by up to 30 s agree on every session, and call tokens and confirmations tolerate that
 * skew. The store's clock is moved with libfaketime; each app's clock is injected.
 */
describe('one clock for a code: app instances whose clocks differ', () => {
  let store: ClockedRedis;
  let t: TestApp | undefined;
  let other: Built | undefined;
  beforeAll(async () => {
    store = await startRedisWithMovableClock();
  });
  afterAll(async () => {
    await store.stop();
  });
  afterEach(async () => {
    await other?.close();
    await t?.close();
    other = undefined;
    t = undefined;
  });

  const storeNow = () => Date.now() + store.offsetMs;

  /** Instance A (the test app) with the store's time, instance B `skewMs` off it; one signing key, one store. */
  async function twoInstances(skewMs: number) {
    const key = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'shared' };
    t = await startTestApp({ redisUrl: store.url, env: { TOKEN_SIGNING_KEYS: JSON.stringify([key]) } });
    t.clock.set(storeNow());
    const clockB = manualClock(storeNow() + skewMs);
    other = await buildDeps(t.config, { clock: clockB, redirectBackoffMs: [5], logDestination: new Writable({ write: (_c, _e, cb) => cb() }) });
    const a = t.app;
    const b = createApp(other.deps);
    const passTime = (ms: number) => {
      store.advance(ms);
      t?.clock.advance(ms);
      clockB.advance(ms);
    };
    return { a, b, passTime };
  }

  /** A caller whose every webhook may reach either instance. */
  function callOn(test: TestApp) {
    const callSid = newCallSid();
    const base = { CallSid: callSid, AccountSid: test.config.twilio.accountSid, From: '+14155550101', To: '+18005550199', CallStatus: 'in-progress', Direction: 'inbound' };
    let last: ParsedTwiml | undefined;
    const post = async (app: Express, absolute: string, extra: Record<string, string> = {}) => {
      const params = { ...base, ...extra };
      const signature = twilio.getExpectedTwilioSignature(test.config.twilio.authToken, absolute, params);
      const res = await request(app).post(absolute.slice(PUBLIC_BASE_URL.length)).type('form').set('X-Twilio-Signature', signature).send(params);
      expect(res.status).toBe(200);
      last = parseTwiml(res.text);
      return last;
    };
    return {
      callSid,
      dial: (app: Express) => post(app, `${PUBLIC_BASE_URL}/twilio/voice`, { CallStatus: 'ringing' }),
      press: (app: Express, digits: string) => post(app, last?.gather?.action ?? '', { Digits: digits }),
      fetch: (app: Express, url: string) => post(app, url),
      lastTwiml: () => last as ParsedTwiml,
    };
  }

  async function timeline(callSid: string): Promise<string[]> {
    if (!t) throw new Error('no app');
    const res = await request(t.app).get(`/admin/v1/calls/${callSid}/events`).set('Authorization', `Bearer ${t.adminKey}`);
    return (res.body as { events: { type: string }[] }).events.map((e) => e.type);
  }

  it.each([
    ['30 s behind', -30_000],
    ['30 s ahead of', 30_000],
  ])('when instance B runs %s instance A, then the whole verified call, the statement and a reissue work across both', async (_label, skewMs) => {
    const { a, b, passTime } = await twoInstances(skewMs);
    if (!t) throw new Error('no app');
    const device = await enrollDevice(t);

    // The code is issued on B, confirmed on A (A mints the token), the verified turn runs on B.
    const call = callOn(t);
    await call.dial(a);
    const did = spokenCode(await call.press(b, '1')) ?? '';
    expect(did).toMatch(/^\d{6}$/);
    expect((await device.confirm(did)).status).toBe(200);
    const verified = await call.fetch(b, t.twilioFake.callUpdates()[0]?.form.Url ?? '');
    expect(heard(verified)).toMatch(/your available balance is/);

    // The statement on A with the token A minted, then on B: the menu's next protected action.
    const period = await call.press(a, '2');
    const sent = heard(period).includes('press 1') && !heard(period).includes('sent a link') ? await call.press(b, '1') : period;
    expect(heard(sent)).toMatch(/sent a link to your mobile/);
    expect(t.twilioFake.messages()).toHaveLength(1);
    const events = await timeline(call.callSid);
    expect(events).not.toContain('token_rejected');
    expect(events).toEqual(expect.arrayContaining(['confirmed', 'token_issued', 'balance_read', 'statement_sms_sent']));

    // A reissue: the code runs out by the store's clock; both instances agree it is expired.
    const second = callOn(t);
    await second.dial(b);
    const first = spokenCode(await second.press(a, '1'));
    passTime(91_000);
    const reissued = spokenCode(await second.press(b, '1'));
    expect(reissued).toMatch(/^\d{6}$/);
    expect(reissued).not.toBe(first);
    expect(await timeline(second.callSid)).toEqual(expect.arrayContaining(['timeout', 'reissued']));
  });

  it("when the app's clock is 120 s behind the store's, then a code the store has expired is not live: not repeated, not confirmed", async () => {
    t = await startTestApp({ redisUrl: store.url });
    t.clock.set(storeNow() - 120_000);
    const device = await enrollDevice(t);
    const call = callOn(t);
    await call.dial(t.app);
    const did = spokenCode(await call.press(t.app, '1')) ?? '';
    expect(did).toMatch(/^\d{6}$/);
    // Only the store's clock moves past the code's life; the app's stays where it was.
    store.advance(91_000);
    // Press 9 (repeat): the expired code is never spoken again (the flow may offer a new one instead).
    expect(spokenCode(await call.press(t.app, '9'))).not.toBe(did);
    expect(heard(call.lastTwiml())).toMatch(/code expired/);
    expect(await timeline(call.callSid)).toContain('reissued');
    const res = await device.confirm(did);
    expect(res.status).toBe(422);
    expect(t.twilioFake.callUpdates()).toHaveLength(0);
  });

  it("when a verified call's token is refused (this instance's clock ran past it), then one token_rejected and the caller goes back through the gate, no loop", async () => {
    t = await startTestApp({ redisUrl: store.url });
    t.clock.set(storeNow());
    const device = await enrollDevice(t);
    const call = callOn(t);
    await call.dial(t.app);
    const did = spokenCode(await call.press(t.app, '1')) ?? '';
    expect((await device.confirm(did)).status).toBe(200);
    await call.fetch(t.app, t.twilioFake.callUpdates()[0]?.form.Url ?? '');
    // The store still says verified; this instance's clock is past the token's life and tolerance.
    t.clock.advance((300 + 31) * 1000);
    const again = await call.press(t.app, '1');
    const newCode = spokenCode(again);
    expect(newCode).toMatch(/^\d{6}$/);
    expect(newCode).not.toBe(did);
    const events = await timeline(call.callSid);
    expect(events.filter((e) => e === 'token_rejected')).toHaveLength(1);
    expect(events.filter((e) => e === 'session_created')).toHaveLength(2);
  });
});
