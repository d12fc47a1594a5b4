import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cryptoRandom } from '../src/shared/clock.js';
import { createSealer } from '../src/shared/seal.js';
import { createStore } from '../src/store/client.js';
import { createKeys } from '../src/store/keys.js';
import { createDidCodec } from '../src/verification/did.js';
import { createRecentlyVerified } from '../src/verification/recently-verified.js';
import { createSessions } from '../src/verification/sessions.js';
import { enrollDevice } from './support/authenticator.js';
import { caller, spokenCode } from './support/app.js';
import { newProviderCallId, startApiTestApp, type ApiTestApp, type ClientId } from './support/api-app.js';
import { startRedisWithMovableClock, type ClockedRedis } from './support/store-clock.js';
import { timelineOf } from './support/verified-call.js';

/**
 * DESIGN A4 (late confirmations), A5 (`GET /calls/{callId}/verification`), B2: a correct code
 * confirmed just after the call ended. DID_TTL_SECONDS=300, so the 120 s window and not the code's
 * expiry decides; the window is the store's clock, moved with libfaketime (the app's clock moves
 * with it, so the device's JWS stays fresh).
 */
describe('late confirmations', () => {
  let store: ClockedRedis;
  let api: ApiTestApp | undefined;
  beforeAll(async () => {
    store = await startRedisWithMovableClock();
  });
  afterAll(async () => {
    await store.stop();
  });
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  async function start(policy: 'ignore' | 'recently-verified' | undefined) {
    api = await startApiTestApp({
      redisUrl: store.url,
      env: { DID_TTL_SECONDS: '300', ...(policy ? { LATE_CONFIRMATION_POLICY: policy } : {}) },
    });
    const a = api;
    a.t.clock.set(Date.now() + store.offsetMs);
    const device = await enrollDevice(a.t);
    return {
      a,
      device,
      passTime(ms: number) {
        store.advance(ms);
        a.t.clock.advance(ms);
      },
      async verification(callId: string, as: ClientId = 'genesys') {
        const res = await a.send('get', '/calls/{callId}/verification', { params: { callId }, as });
        expect(res.status).toBe(200);
        return res.body as { callId: string; verified: boolean; recentlyVerified?: { at: string; expiresAt: string; customerId: string; caseId?: string } };
      },
      updatesOf: (callId: string) => a.t.twilioFake.callUpdates().filter((u) => u.path.endsWith(`/Calls/${callId}.json`)),
    };
  }

  /** A Twilio caller who heard the code and hung up. */
  async function twilioCallerHungUp(a: ApiTestApp) {
    const call = caller(a.t);
    await call.dial();
    const did = spokenCode(await call.press('1')) ?? '';
    expect(did).toMatch(/^\d{6}$/);
    expect((await call.hangUp()).status).toBe(200);
    return { callSid: call.callSid, did };
  }

  /** A provider-API session with a case id, ended with `/calls/{id}/end`. */
  async function apiSessionEnded(a: ApiTestApp) {
    const callId = newProviderCallId();
    const created = await a.send('post', '/sessions', { body: { provider: 'genesys-cloud', callId, metadata: { caseId: 'CASE-20461', queue: 'cards' } } });
    expect(created.status).toBe(201);
    const { sessionId, did } = created.body as { sessionId: string; did: string };
    expect((await a.send('post', '/calls/{callId}/end', { params: { callId } })).status).toBe(204);
    return { callId, sessionId, did };
  }

  describe('with LATE_CONFIRMATION_POLICY=recently-verified', () => {
    it('when a Twilio caller hung up and the code is confirmed 30 s later, then 200 recently_verified, no calls.update, the session stays call_ended, and the verification route names the customer for 10 minutes, then not', async () => {
      const { a, device, passTime, verification, updatesOf } = await start('recently-verified');
      const { callSid, did } = await twilioCallerHungUp(a);
      passTime(30_000);

      const res = await device.confirm(did);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'recently_verified' });
      expect(updatesOf(callSid)).toEqual([]);

      const events = await timelineOf(a.t, callSid);
      expect(events.map((e) => e.type)).not.toContain('confirmed');
      expect(events.map((e) => e.type)).not.toContain('token_issued');
      const late = events.find((e) => e.type === 'late_confirmation');
      expect(late).toMatchObject({ policy: 'recently_verified', result: 'recently_verified', via: 'confirmation', deviceId: device.deviceId, customerId: 'cust_001', actor: { type: 'device', id: device.deviceId }, sourceIp: '127.0.0.1' });
      const session = await a.t.built.deps.sessions.get(String(late?.sessionId));
      expect(session?.status).toBe('call_ended');
      // Its SIEM line says it went well: accepted as recently verified is a success, not a refusal.
      const line = a.t.logs.find((l) => l['event.action'] === 'late_confirmation');
      expect(line?.['event.outcome']).toBe('success');

      const seen = await verification(callSid);
      expect(seen).toMatchObject({ callId: callSid, verified: false, recentlyVerified: { customerId: 'cust_001' } });
      expect(seen.recentlyVerified?.caseId).toBeUndefined();
      expect(Date.parse(seen.recentlyVerified?.expiresAt ?? '') - Date.parse(seen.recentlyVerified?.at ?? '')).toBe(10 * 60 * 1000);

      passTime(9 * 60_000);
      expect((await verification(callSid)).recentlyVerified?.customerId).toBe('cust_001');
      passTime(61_000);
      expect(await verification(callSid)).toEqual({ callId: callSid, verified: false });
    });

    it('when a Twilio caller hung up and the code is confirmed 130 s later, then 422 and the call is not marked', async () => {
      const { a, device, passTime, verification, updatesOf } = await start('recently-verified');
      const { callSid, did } = await twilioCallerHungUp(a);
      passTime(130_000);
      const res = await device.confirm(did);
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ error: 'code_not_recognized' });
      expect(updatesOf(callSid)).toEqual([]);
      expect(await verification(callSid)).toEqual({ callId: callSid, verified: false });
      // Too late is a wrong code on the call's session, caused by the device (A9).
      const wrong = (await timelineOf(a.t, callSid)).find((e) => e.type === 'wrong_did');
      expect(wrong).toMatchObject({ reason: 'was_call_ended', deviceId: device.deviceId, actor: { type: 'device', id: device.deviceId }, sourceIp: '127.0.0.1' });
    });

    it('when an API session was ended with /calls/{id}/end and its code is confirmed 30 s later, then 200 recently_verified, the session stays call_ended, and the route shows the customer and metadata.caseId for 10 minutes (to the client that opened it only)', async () => {
      const { a, device, passTime, verification } = await start('recently-verified');
      const { callId, sessionId, did } = await apiSessionEnded(a);
      passTime(30_000);

      const res = await device.confirm(did);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'recently_verified' });
      const poll = await a.send('get', '/sessions/{sessionId}', { params: { sessionId } });
      expect(poll.body).toMatchObject({ status: 'call_ended', terminal: true });
      expect(poll.body).not.toHaveProperty('callToken');

      const seen = await verification(callId);
      expect(seen).toMatchObject({ callId, verified: false, recentlyVerified: { customerId: 'cust_001', caseId: 'CASE-20461' } });
      // Another API client's call is answered like a call nobody has seen.
      expect(await verification(callId, 'nice')).toEqual({ callId, verified: false });
      expect(await a.timeline(callId)).toContain('late_confirmation');

      passTime(9 * 60_000 + 50_000);
      expect((await verification(callId)).recentlyVerified?.caseId).toBe('CASE-20461');
      passTime(11_000);
      expect(await verification(callId)).toEqual({ callId, verified: false });
    });

    it('when an API session was ended and its code is confirmed 130 s later, then 422', async () => {
      const { a, device, passTime, verification } = await start('recently-verified');
      const { callId, did } = await apiSessionEnded(a);
      passTime(130_000);
      expect((await device.confirm(did)).status).toBe(422);
      expect(await verification(callId)).toEqual({ callId, verified: false });
    });

    it('when a late confirmation is accepted and then submitted again, then neither counts as a wrong code: ten wrong codes still answer 422 before the lock', async () => {
      const { a, device, passTime } = await start('recently-verified');
      const { did } = await apiSessionEnded(a);
      passTime(30_000);
      expect((await device.confirm(did)).status).toBe(200);
      // The same code again is a double submit: 422, not counted.
      expect((await device.confirm(did)).status).toBe(422);
      const wrong = did === '000000' ? '111111' : '000000';
      const answers: number[] = [];
      for (let i = 0; i < 11; i++) answers.push((await device.confirm(wrong)).status);
      expect(answers).toEqual([...Array(10).fill(422), 429]);
    });

    it('when the intercept finds the call already gone after a 200 confirmed, then the session stays confirmed and the call is marked recently verified', async () => {
      const { a, device, verification } = await start('recently-verified');
      const call = caller(a.t);
      await call.dial();
      const did = spokenCode(await call.press('1')) ?? '';
      a.t.twilioFake.respond((r) => (r.path.endsWith(`/Calls/${call.callSid}.json`) ? { status: 404, body: { code: 20404, message: 'The requested resource was not found', status: 404 } } : undefined));
      const res = await device.confirm(did);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'confirmed' });
      const events = await timelineOf(a.t, call.callSid);
      const late = events.find((e) => e.type === 'late_confirmation');
      expect(late).toMatchObject({ policy: 'recently_verified', result: 'recently_verified', via: 'intercept' });
      expect((await a.t.built.deps.sessions.get(String(late?.sessionId)))?.status).toBe('confirmed');
      expect(await verification(call.callSid)).toMatchObject({ verified: false, recentlyVerified: { customerId: 'cust_001' } });
    });

    it('when an API session is confirmed in time, then the route says verified until the call ends', async () => {
      const { a, device, verification } = await start('recently-verified');
      const callId = newProviderCallId();
      const { did } = (await a.send('post', '/sessions', { body: { provider: 'five9', callId } })).body as { did: string };
      expect(await verification(callId)).toEqual({ callId, verified: false });
      expect((await device.confirm(did)).status).toBe(200);
      expect(await verification(callId)).toEqual({ callId, verified: true });
      expect(await verification(callId, 'nice')).toEqual({ callId, verified: false });
      expect((await a.send('post', '/calls/{callId}/end', { params: { callId } })).status).toBe(204);
      expect(await verification(callId)).toEqual({ callId, verified: false });
    });
  });

  describe('with LATE_CONFIRMATION_POLICY=ignore (the default)', () => {
    it('when a Twilio caller hung up, or an API session was ended, and the code is confirmed 30 s later, then 422 in both and nothing is marked', async () => {
      const { a, device, passTime, verification, updatesOf } = await start(undefined);
      expect(a.t.config.lateConfirmationPolicy).toBe('ignore');
      const twilioCall = await twilioCallerHungUp(a);
      const apiCall = await apiSessionEnded(a);
      passTime(30_000);
      expect((await device.confirm(twilioCall.did)).status).toBe(422);
      expect((await device.confirm(apiCall.did)).status).toBe(422);
      expect(updatesOf(twilioCall.callSid)).toEqual([]);
      expect(await verification(twilioCall.callSid)).toEqual({ callId: twilioCall.callSid, verified: false });
      expect(await verification(apiCall.callId)).toEqual({ callId: apiCall.callId, verified: false });
    });

    it('when the intercept finds the call gone after a 200 confirmed, then the session stays confirmed and the call is not marked', async () => {
      const { a, device, verification } = await start('ignore');
      const call = caller(a.t);
      await call.dial();
      const did = spokenCode(await call.press('1')) ?? '';
      a.t.twilioFake.respond((r) => (r.path.endsWith(`/Calls/${call.callSid}.json`) ? { status: 404, body: { code: 20404, message: 'gone', status: 404 } } : undefined));
      expect((await device.confirm(did)).status).toBe(200);
      const late = (await timelineOf(a.t, call.callSid)).find((e) => e.type === 'late_confirmation');
      expect(late).toMatchObject({ policy: 'ignore', result: 'ignored', via: 'intercept' });
      expect(await verification(call.callSid)).toEqual({ callId: call.callSid, verified: false });
    });
  });
});

describe('late confirmations on the embedded store (npm start)', () => {
  it('when a session\'s call ended and its code is confirmed right after, then the same scripts accept it and mark the call with the sealed case id', async () => {
    const store = await createStore({ kind: 'embedded' });
    try {
      const keys = createKeys('late:');
      const sealer = createSealer(Buffer.alloc(32, 1), 'call-token');
      const did = createDidCodec({ secret: Buffer.alloc(32, 2), length: 6, random: cryptoRandom });
      const sessions = createSessions({ redis: store.redis, keys, random: cryptoRandom, did, tokenSealer: sealer, didTtlSeconds: 300, lateConfirmationPolicy: 'recently-verified' });
      const marks = createRecentlyVerified({ redis: store.redis, keys, sealer });
      const opened = await sessions.open({ provider: 'agent-desktop', callId: 'call-embedded-1', channel: 'api:genesys', caseId: 'CASE-7' });
      if (opened.kind !== 'created') throw new Error(`session not created: ${opened.kind}`);
      await sessions.endCall('call-embedded-1', 'agent-desktop');
      const outcome = await sessions.confirmByDid(opened.did, { customerId: 'cust_001', deviceId: 'dev_embedded1' });
      expect(outcome.kind).toBe('recently_verified');
      expect((await sessions.get(opened.session.sessionId))?.status).toBe('call_ended');
      const mark = await marks.of('call-embedded-1');
      expect(mark).toMatchObject({ customerId: 'cust_001', caseId: 'CASE-7', channel: 'api:genesys' });
      expect((mark?.expiresAt ?? 0) - (mark?.at ?? 0)).toBe(10 * 60 * 1000);
      // Once only: the same code again is no second late confirmation.
      expect((await sessions.confirmByDid(opened.did, { customerId: 'cust_001', deviceId: 'dev_embedded2' })).kind).toBe('not_recognized');
      // The case id is sealed in the store, never in clear.
      const raw = await store.redis.hgetall(keys.session(opened.session.sessionId));
      expect(JSON.stringify(raw)).not.toContain('CASE-7');
      expect(JSON.stringify(await store.redis.hgetall(keys.recentlyVerified('call-embedded-1')))).not.toContain('CASE-7');
    } finally {
      await store.close();
    }
  });
});
