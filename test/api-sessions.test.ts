import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedisWithMovableClock, type ClockedRedis } from './support/store-clock.js';
import { enrollDevice } from './support/authenticator.js';
import { codeIn, newProviderCallId, startApiTestApp, type ApiTestApp } from './support/api-app.js';

describe('provider API sessions (A5), through HTTP with real Redis, checked against the served OpenAPI document', () => {
  let api: ApiTestApp;
  // A code's life is the store's clock (DESIGN B2): time passes for the store and the app together.
  let store: ClockedRedis;
  beforeAll(async () => {
    store = await startRedisWithMovableClock();
  });
  afterAll(async () => {
    await store.stop();
  });
  const passTime = (ms: number) => {
    api.t.clock.advance(ms);
    store.advance(ms);
  };
  beforeEach(async () => {
    api = await startApiTestApp({ redisUrl: store.url });
    api.t.clock.set(Date.now() + store.offsetMs);
  });
  afterEach(async () => {
    await api.close();
  });

  const create = (callId: string, extra: Record<string, unknown> = {}) =>
    api.send('post', '/sessions', { body: { provider: 'genesys-cloud', callId, ani: '+14155550101', dnis: '+18005550199', ...extra } });

  it('when a platform opens a session, then it gets a code to speak with its digits separated, the loop prompt and how to poll', async () => {
    const callId = newProviderCallId();
    const res = await create(callId);
    expect(res.status).toBe(201);
    const body = res.body as { did: string; status: string; ttlSeconds: number; maxReissues: number; pollAfterMs: number; expiresAt: string; prompts: { speak: string; loop: string; locale: string } };
    expect(body.status).toBe('pending');
    expect(body.did).toMatch(/^\d{6}$/);
    expect(codeIn(body.prompts.speak)).toBe(body.did);
    expect(body.prompts.speak).toMatch(/^Your code is \d(, \d){5}\./);
    expect(body.prompts.loop).not.toMatch(/\d/);
    expect(body.ttlSeconds).toBe(api.t.config.did.ttlSeconds);
    // Store time: within moments of now plus the code's lifetime.
    expect(Math.abs(Date.parse(body.expiresAt) - (Date.now() + api.t.config.did.ttlSeconds * 1000))).toBeLessThan(5000);
    expect(body.maxReissues).toBe(1);
    expect(body.pollAfterMs).toBeGreaterThan(0);
    expect(res.headers['cache-control']).toBe('no-store');
    // The calling and dialled numbers never reach a log line.
    expect(api.t.rawLogs.join('\n')).not.toMatch(/4155550101|8005550199/);
    expect(await api.timeline(callId)).toEqual(['session_created', 'did_issued']);
  });

  it('when the caller speaks Spanish, then the prompts are the es-US ones and still carry the code', async () => {
    const res = await create(newProviderCallId(), { locale: 'es-MX' });
    expect(res.status).toBe(201);
    const { did, prompts } = res.body as { did: string; prompts: { speak: string; loop: string; locale: string } };
    expect(prompts.locale).toBe('es-US');
    expect(prompts.speak).toMatch(/^Su código es /);
    expect(codeIn(prompts.speak)).toBe(did);
  });

  it('when five creates for one call race, then there is one session and one code: one 201, the rest 200', async () => {
    const callId = newProviderCallId();
    const answers = await Promise.all(Array.from({ length: 5 }, () => create(callId)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => (a.body as { sessionId: string }).sessionId)).size).toBe(1);
    expect(new Set(answers.map((a) => (a.body as { did: string }).did)).size).toBe(1);
    const events = await api.timeline(callId);
    expect(events.filter((e) => e === 'session_created')).toHaveLength(1);
  });

  it('when the body is invalid or names the reserved twilio provider, then 400 with { error, message }', async () => {
    const missing = await api.send('post', '/sessions', { body: { provider: 'genesys-cloud' } });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: 'bad_request' });
    const reserved = await create(newProviderCallId(), { provider: 'twilio' });
    expect(reserved.status).toBe(400);
    const badUrl = await create(newProviderCallId(), { callbackUrl: 'http://example.com/hook' });
    expect(badUrl.status).toBe(400);
  });

  it('when another API client asks about a session, then it does not exist for them', async () => {
    const callId = newProviderCallId();
    const { sessionId } = (await create(callId)).body as { sessionId: string };
    expect((await api.send('get', '/sessions/{sessionId}', { params: { sessionId }, as: 'nice' })).status).toBe(404);
    expect((await api.send('post', '/sessions/{sessionId}/cancel', { params: { sessionId }, as: 'nice' })).status).toBe(404);
    expect((await api.send('post', '/calls/{callId}/end', { params: { callId }, as: 'nice' })).status).toBe(404);
    const again = await api.send('post', '/sessions', { as: 'nice', body: { provider: 'genesys-cloud', callId } });
    expect(again.status).toBe(409);
  });

  it('when a pending session is canceled, then it is canceled, a second cancel changes nothing, and the timeline shows it once', async () => {
    const callId = newProviderCallId();
    const { sessionId } = (await create(callId)).body as { sessionId: string };
    const first = await api.send('post', '/sessions/{sessionId}/cancel', { params: { sessionId } });
    expect(first.body).toEqual({ status: 'canceled' });
    const second = await api.send('post', '/sessions/{sessionId}/cancel', { params: { sessionId } });
    expect(second.body).toEqual({ status: 'canceled' });
    const poll = await api.send('get', '/sessions/{sessionId}', { params: { sessionId } });
    expect(poll.body).toMatchObject({ status: 'canceled', terminal: true, remainingMs: 0 });
    expect((await api.timeline(callId)).filter((e) => e === 'canceled')).toHaveLength(1);
  });

  it('when a confirmed session is canceled, then it stays confirmed and its poll carries the call token', async () => {
    const device = await enrollDevice(api.t);
    const callId = newProviderCallId();
    const { sessionId, did } = (await create(callId)).body as { sessionId: string; did: string };
    expect((await device.confirm(did)).status).toBe(200);

    const cancel = await api.send('post', '/sessions/{sessionId}/cancel', { params: { sessionId } });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toEqual({ status: 'confirmed' });
    const poll = await api.send('get', '/sessions/{sessionId}', { params: { sessionId } });
    expect(poll.body).toMatchObject({ status: 'confirmed', terminal: true });
    expect((poll.body as { callToken?: string }).callToken).toMatch(/^eyJ/);
    expect(await api.timeline(callId)).not.toContain('canceled');
  });

  it('when a code expires, then a reissue gives a new session and code, the old stays expired, and only maxReissues times', async () => {
    const callId = newProviderCallId();
    const first = (await create(callId)).body as { sessionId: string; did: string; maxReissues: number };
    const early = await api.send('post', '/sessions/{sessionId}/reissue', { params: { sessionId: first.sessionId } });
    expect(early.status).toBe(409);

    passTime(api.t.config.did.ttlSeconds * 1000);
    const expired = await api.send('get', '/sessions/{sessionId}', { params: { sessionId: first.sessionId } });
    expect(expired.body).toMatchObject({ status: 'expired', terminal: true, remainingMs: 0 });

    const reissued = await api.send('post', '/sessions/{sessionId}/reissue', { params: { sessionId: first.sessionId } });
    expect(reissued.status).toBe(201);
    const second = reissued.body as { sessionId: string; did: string; status: string };
    expect(second.sessionId).not.toBe(first.sessionId);
    expect(second.did).not.toBe(first.did);
    expect(second.status).toBe('pending');
    const old = await api.send('get', '/sessions/{sessionId}', { params: { sessionId: first.sessionId } });
    expect((old.body as { status: string }).status).toBe('expired');

    passTime(api.t.config.did.ttlSeconds * 1000);
    expect(first.maxReissues).toBe(1);
    const exhausted = await api.send('post', '/sessions/{sessionId}/reissue', { params: { sessionId: second.sessionId } });
    expect(exhausted.status).toBe(409);
    expect(exhausted.body).toMatchObject({ error: 'conflict' });

    const events = await api.timeline(callId);
    expect(events).toEqual(expect.arrayContaining(['session_created', 'did_issued', 'timeout', 'reissued']));
    expect(events.filter((e) => e === 'timeout')).toHaveLength(2);
    expect(events.filter((e) => e === 'session_created')).toHaveLength(2);
  });

  it('when the platform ends the call, then the pending session is call_ended, the end answers 204 every time, and no new session opens', async () => {
    const callId = newProviderCallId();
    const { sessionId } = (await create(callId)).body as { sessionId: string };
    const end = await api.send('post', '/calls/{callId}/end', { params: { callId } });
    expect(end.status).toBe(204);
    expect((await api.send('post', '/calls/{callId}/end', { params: { callId } })).status).toBe(204);
    const poll = await api.send('get', '/sessions/{sessionId}', { params: { sessionId } });
    expect(poll.body).toMatchObject({ status: 'call_ended', terminal: true });
    expect((await create(callId)).status).toBe(409);
    expect((await api.timeline(callId)).filter((e) => e === 'call_ended')).toHaveLength(1);
  });

  it('when an unknown session is polled, then 404', async () => {
    const res = await api.send('get', '/sessions/{sessionId}', { params: { sessionId: 'ses_AAAAAAAAAAAAAAAAAAAAAA_nothere1' } });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: 'not_found' });
  });
});
