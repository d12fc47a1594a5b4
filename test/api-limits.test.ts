import { randomBytes } from 'node:crypto';
import request from 'supertest';
import twilio from 'twilio';
import { afterEach, describe, expect, it } from 'vitest';
import { PUBLIC_BASE_URL, newCallSid, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { newProviderCallId, startApiTestApp, type ApiTestApp } from './support/api-app.js';

let api: ApiTestApp | undefined;
let plain: TestApp | undefined;
afterEach(async () => {
  await api?.close();
  await plain?.close();
  api = undefined;
  plain = undefined;
});

// The audit drainer's lease comes and goes on its own schedule (one drainer at a time): not a write of the request.
const storeKeys = async (t: TestApp) => (await t.built.deps.store.redis.keys(`${t.config.keyPrefix}*`)).filter((k) => k !== `${t.config.keyPrefix}audit:lease`);

/**
 * The audit drainer empties (and so deletes) outbox shards on its own timer, which is not the
 * requests' doing: drain what is there and pause it, so a key the requests add (an outbox shard
 * holding an event they recorded, say) shows, and one the drainer removed does not.
 */
async function drainerPaused<T>(t: TestApp, run: () => Promise<T>): Promise<T> {
  await t.built.deps.audit.drainNow();
  await t.built.deps.audit.stop();
  try {
    return await run();
  } finally {
    t.built.deps.audit.start();
  }
}

/** A session opened, confirmed by an enrolled device and polled: the platform now holds the call token. */
async function verifiedCall(a: ApiTestApp) {
  const device = await enrollDevice(a.t);
  const callId = newProviderCallId();
  const created = await a.send('post', '/sessions', { body: { provider: 'nice-cxone', callId } });
  const { sessionId, did } = created.body as { sessionId: string; did: string };
  expect((await device.confirm(did)).status).toBe(200);
  const poll = await a.send('get', '/sessions/{sessionId}', { params: { sessionId } });
  return { callId, sessionId, callToken: (poll.body as { callToken: string }).callToken };
}

/** A JWS-shaped string that is not ours: a random header, payload and signature. */
const junkJwt = () => [randomBytes(24), randomBytes(64), randomBytes(64)].map((b) => b.toString('base64url')).join('.');

describe('provider API rate limits (API_RATE_LIMIT_PER_CLIENT, API_RATE_LIMIT_PER_CALL)', () => {
  it('when one call is polled faster than API_RATE_LIMIT_PER_CALL, then 429 with Retry-After until the second ends', async () => {
    api = await startApiTestApp({ env: { API_RATE_LIMIT_PER_CALL: '3' } });
    const callId = newProviderCallId();
    const { sessionId } = (await api.send('post', '/sessions', { body: { provider: 'five9', callId } })).body as { sessionId: string };
    api.t.clock.advance(1000);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await api.send('get', '/sessions/{sessionId}', { params: { sessionId } })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await api.send('get', '/sessions/{sessionId}', { params: { sessionId } });
    expect(limited.body).toMatchObject({ error: 'rate_limited' });
    expect(Number(limited.headers['retry-after'])).toBe(1);
    api.t.clock.advance(1000);
    expect((await api.send('get', '/sessions/{sessionId}', { params: { sessionId } })).status).toBe(200);
  });

  it('when one client sends more than API_RATE_LIMIT_PER_CLIENT across calls, then 429 with Retry-After for that client only', async () => {
    api = await startApiTestApp({ env: { API_RATE_LIMIT_PER_CLIENT: '2' } });
    const open = (as: 'genesys' | 'nice') => api!.send('post', '/sessions', { as, body: { provider: 'five9', callId: newProviderCallId() } });
    expect((await open('genesys')).status).toBe(201);
    expect((await open('genesys')).status).toBe(201);
    const third = await open('genesys');
    expect(third.status).toBe(429);
    expect(Number(third.headers['retry-after'])).toBe(1);
    expect((await open('nice')).status).toBe(201);
  });

  it('when nothing is set, then a call gets the default 20 requests a second and the 21st is 429', async () => {
    api = await startApiTestApp();
    const callId = newProviderCallId();
    const { sessionId } = (await api.send('post', '/sessions', { body: { provider: 'five9', callId } })).body as { sessionId: string };
    api.t.clock.advance(1000);
    const statuses = [];
    for (let i = 0; i < 21; i++) statuses.push((await api.send('get', '/sessions/{sessionId}', { params: { sessionId } })).status);
    expect(statuses).toEqual([...Array<number>(20).fill(200), 429]);
  });
});

describe('requests without valid credentials', () => {
  it('when 60 junk Bearer tokens name a live call, then nothing is written to the store, no token_rejected is recorded, and the genuine client still polls and reads that call', async () => {
    const a = (api = await startApiTestApp());
    const { callId, sessionId, callToken } = await verifiedCall(a);
    a.t.clock.advance(1000);
    const junk: Awaited<ReturnType<ApiTestApp['send']>>[] = [];
    await drainerPaused(a.t, async () => {
      const before = (await storeKeys(a.t)).sort();
      for (let i = 0; i < 60; i++) junk.push(await a.send('post', '/balance', { auth: { bearer: i % 2 ? junkJwt() : `junk-${i}` }, body: { callId } }));
      expect((await storeKeys(a.t)).sort()).toEqual(before);
    });
    // 401 within the address's budget, then 429 with Retry-After; never anything else.
    expect(junk.slice(0, 20).map((r) => r.status)).toEqual(Array<number>(20).fill(401));
    for (const r of junk.slice(20)) {
      expect(r.status).toBe(429);
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    // Log lines, bounded: one per refusal within the budget, one when the address went over.
    expect(api.t.logs.filter((l) => /API (request refused|refusals)/.test(String(l.msg)))).toHaveLength(21);
    for (let i = 0; i < 5; i++) expect((await api.send('get', '/sessions/{sessionId}', { params: { sessionId } })).status).toBe(200);
    expect((await api.send('post', '/balance', { auth: { bearer: callToken }, body: { callId } })).status).toBe(200);
    expect(await api.timeline(callId)).not.toContain('token_rejected');
  });

  it('when junk Basic credentials flood the API, then they are refused without a store write and the genuine client is served', async () => {
    const a = (api = await startApiTestApp({ env: { API_RATE_LIMIT_PER_CLIENT: '5' } }));
    const statuses = new Set<number>();
    await drainerPaused(a.t, async () => {
      const before = (await storeKeys(a.t)).sort();
      for (let i = 0; i < 40; i++) {
        const res = await a.send('post', '/sessions', { auth: { basic: ['genesys', `guess-${i}`] }, body: { provider: 'five9', callId: newProviderCallId() } });
        statuses.add(res.status);
      }
      expect((await storeKeys(a.t)).sort()).toEqual(before);
    });
    expect([...statuses].sort()).toEqual([401, 429]);
    // The guesses used none of the client's own allowance of 5.
    for (let i = 0; i < 5; i++) expect((await api.send('post', '/sessions', { body: { provider: 'five9', callId: newProviderCallId() } })).status).toBe(201);
  });

  it('when a token we signed is refused (another call), then it is still a token_rejected event', async () => {
    api = await startApiTestApp();
    const { callToken } = await verifiedCall(api);
    const otherCall = newProviderCallId();
    const res = await api.send('post', '/balance', { auth: { bearer: callToken }, body: { callId: otherCall } });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer .*invalid_token/);
    expect(await api.timeline(otherCall)).toEqual(['token_rejected']);
  });
});

describe('behind a proxy (TRUST_PROXY)', () => {
  const unknownLink = () => randomBytes(24).toString('base64url');

  it('when TRUST_PROXY=1 and one forwarded address sends 30 junk link GETs, then it is limited and another address is not', async () => {
    plain = await startTestApp({ env: { TRUST_PROXY: '1' } });
    const from = (address: string) => request(plain!.app).get(`/s/${unknownLink()}`).set('X-Forwarded-For', address);
    for (let i = 0; i < 30; i++) expect((await from('198.51.100.7')).status).toBe(410);
    const blocked = await from('198.51.100.7');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // A spoofed first hop does not matter: the one proxy hop we trust appended the real client.
    expect((await from('203.0.113.9, 198.51.100.7')).status).toBe(429);
    expect((await from('203.0.113.9')).status).toBe(410);
  });

  it('when TRUST_PROXY is unset, then X-Forwarded-For is ignored and cannot dodge the link limit', async () => {
    plain = await startTestApp();
    for (let i = 0; i < 30; i++) expect((await request(plain.app).get(`/s/${unknownLink()}`).set('X-Forwarded-For', `192.0.2.${i}`)).status).toBe(410);
    expect((await request(plain.app).get(`/s/${unknownLink()}`).set('X-Forwarded-For', '192.0.2.200')).status).toBe(429);
  });

  it('when TRUST_PROXY=1, then junk credentials from one forwarded address use up only that address\'s refusal budget', async () => {
    api = await startApiTestApp({ env: { TRUST_PROXY: '1' } });
    const junkFrom = (address: string) => api!.send('post', '/balance', { auth: { bearer: 'junk' }, body: { callId: 'c-1' }, headers: { 'X-Forwarded-For': address } });
    for (let i = 0; i < 20; i++) expect((await junkFrom('198.51.100.7')).status).toBe(401);
    expect((await junkFrom('198.51.100.7')).status).toBe(429);
    expect((await junkFrom('203.0.113.9')).status).toBe(401);
  });

  it('when TRUST_PROXY=1 and a request is signed for the forwarded host, then it is still refused: signatures use PUBLIC_BASE_URL only', async () => {
    plain = await startTestApp({ env: { TRUST_PROXY: '1' } });
    const p = { CallSid: newCallSid(), From: '+14155550101', To: '+18005550199', CallStatus: 'ringing' };
    const forwarded = { 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'http', 'X-Forwarded-For': '198.51.100.7' };
    const spoofed = twilio.getExpectedTwilioSignature(plain.config.twilio.authToken, 'http://evil.example/twilio/voice', p);
    expect((await request(plain.app).post('/twilio/voice').type('form').set(forwarded).set('X-Twilio-Signature', spoofed).send(p)).status).toBe(403);
    const genuine = twilio.getExpectedTwilioSignature(plain.config.twilio.authToken, `${PUBLIC_BASE_URL}/twilio/voice`, p);
    expect((await request(plain.app).post('/twilio/voice').type('form').set(forwarded).set('X-Twilio-Signature', genuine).send(p)).status).toBe(200);
  });
});
