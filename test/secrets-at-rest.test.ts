import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisWithMovableClock, type ClockedRedis } from './support/store-clock.js';
import { newProviderCallId, startApiTestApp, type ApiTestApp } from './support/api-app.js';
import { caller, PUBLIC_BASE_URL, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { scanDump, scanLive, type Finding } from './support/store-scan.js';
import { heard } from './support/twiml.js';

/**
 * Issue 11 item 3 (DESIGN A5, B2): nothing secret at rest. Whole calls and API flows run against a
 * redis-server this file starts itself (never REDIS_URL's: it dumps the server), then every key and
 * value, and the bytes of an RDB dump (uncompressed, so nothing hides in LZF), are searched for
 * every code spoken, call token, link token and link, and balance used.
 */

const CALLER = '+14155550177';

/** What a DID looks like when it was spoken: "4, 8, 2, 9, 1, 3" (the Say's own text). */
function spokenCodeText(said: string): string | undefined {
  return /code is ([\d, ]*\d)/i.exec(said)?.[1];
}

describe('nothing secret at rest in the store (issue 11 item 3)', () => {
  let server: ClockedRedis;
  let dir: string;
  let api: ApiTestApp;
  let t: TestApp;
  let raw: Redis;
  /** Label → secret value; a label says what leaked without the test output having to. */
  const needles = new Map<string, string>();
  const keep = (label: string, value: string | undefined) => {
    expect(value, label).toBeTruthy();
    needles.set(label, value as string);
  };
  const keepToken = (label: string, token: string | undefined) => {
    keep(label, token);
    const [, payload, signature] = (token ?? '').split('.');
    keep(`${label} payload`, payload);
    keep(`${label} signature`, signature);
  };
  const keepLink = (label: string, smsBody: string | undefined) => {
    const url = /(https:\/\/\S+\/s\/([A-Za-z0-9_-]+))/.exec(smsBody ?? '');
    keep(`${label} URL`, url?.[1]);
    keep(`${label} token`, url?.[2]);
    return (url?.[1] ?? '').slice(PUBLIC_BASE_URL.length);
  };

  const dump = async (): Promise<string> => {
    await raw.save();
    const file = join(dir, 'dump.rdb');
    expect((await stat(file)).size).toBeGreaterThan(0);
    return file;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vaultline-at-rest-'));
    // Its clock moves with the app's: a code's life is the store's clock (DESIGN B2).
    server = await startRedisWithMovableClock(['--dir', dir, '--dbfilename', 'dump.rdb', '--rdbcompression', 'no']);
    raw = new Redis(server.url);
    // Each POST goes twice and many to one call: the per-call limit is not what this test is about.
    api = await startApiTestApp({ env: { REDIS_URL: server.url, API_RATE_LIMIT_PER_CALL: '1000' } });
    t = api.t;
    expect(t.config.store).toMatchObject({ kind: 'redis', url: server.url });

    // A Twilio call: balance after a confirmed code, then the statement SMS, its link opened and spent.
    const device = await enrollDevice(t);
    const call = caller(t, { from: CALLER });
    await call.dial();
    const wait = await call.press('1');
    const spoken = spokenCodeText(heard(wait));
    keep('IVR code spoken', spoken);
    const did = (spoken ?? '').replace(/\D/g, '');
    keep('IVR code', did);
    expect((await device.confirm(did)).status).toBe(200);
    const verified = await call.fetch(t.twilioFake.callUpdates()[0]?.form.Url ?? '');
    expect(heard(verified)).toContain('$1,250.50');
    const sessionId = ((await t.built.deps.audit.timeline(call.callSid)) ?? []).find((e) => e.type === 'session_created')?.sessionId;
    keepToken('IVR call token', (await t.built.deps.sessions.tokenOf(String(sessionId))) ?? undefined);
    await call.press('2');
    await call.press('1');
    const linkPath = keepLink('IVR statement link', t.twilioFake.messages()[0]?.form.Body);
    expect((await request(t.app).get(linkPath)).status).toBe(200);
    expect((await request(t.app).post(linkPath)).status).toBe(303);
    await call.hangUp();

    // A second call hangs up while its code is pending.
    const abandoned = caller(t);
    await abandoned.dial();
    keep('abandoned call code', spokenCodeText(heard(await abandoned.press('1')))?.replace(/\D/g, ''));
    await abandoned.hangUp();

    // The provider API with Idempotency-Key on every POST, each sent twice (the replay is what is stored).
    const twice = async (method: 'post', template: string, opts: Parameters<ApiTestApp['send']>[2]) => {
      const first = await api.send(method, template, opts);
      const again = await api.send(method, template, opts);
      expect(again.headers['idempotent-replayed'], `${template} ${first.status} ${again.status} ${again.text}`).toBe('true');
      expect(again.text).toBe(first.text);
      return first;
    };
    const callId = newProviderCallId();
    const created = await twice('post', '/sessions', { body: { provider: 'genesys-cloud', callId, ani: CALLER }, headers: { 'Idempotency-Key': `open-${callId}` } });
    const apiDid = (created.body as { did: string; sessionId: string }).did;
    keep('API code', apiDid);
    expect((await device.confirm(apiDid)).status).toBe(200);
    const poll = await api.send('get', '/sessions/{sessionId}', { params: { sessionId: (created.body as { sessionId: string }).sessionId } });
    const callToken = (poll.body as { callToken: string }).callToken;
    keepToken('API call token', callToken);
    const bearer = { bearer: callToken };
    const balance = await twice('post', '/balance', { auth: bearer, body: { callId }, headers: { 'Idempotency-Key': `bal-${callId}` } });
    expect(balance.status).toBe(200);
    keep('API balance amount', (balance.body as { amount: string }).amount);
    keep('API balance speech', (balance.body as { speech: string }).speech);
    const sms = await twice('post', '/statements/sms', { auth: bearer, body: { callId }, headers: { 'Idempotency-Key': `sms-${callId}` } });
    expect(sms.status).toBe(200);
    keepLink('API statement link', t.twilioFake.messages()[1]?.form.Body);
    await twice('post', '/calls/{callId}/end', { params: { callId }, headers: { 'Idempotency-Key': `end-${callId}` } });

    // A code that expires, is reissued (with a key), confirmed; a session canceled (with a key).
    const expiring = newProviderCallId();
    const old = await twice('post', '/sessions', { body: { provider: 'five9', callId: expiring }, headers: { 'Idempotency-Key': `open-${expiring}` } });
    keep('expired code', (old.body as { did: string }).did);
    t.clock.advance(t.config.did.ttlSeconds * 1000);
    server.advance(t.config.did.ttlSeconds * 1000);
    const reissued = await twice('post', '/sessions/{sessionId}/reissue', {
      params: { sessionId: (old.body as { sessionId: string }).sessionId },
      headers: { 'Idempotency-Key': `reissue-${expiring}` },
    });
    expect(reissued.status).toBe(201);
    const reissuedDid = (reissued.body as { did: string }).did;
    keep('reissued code', reissuedDid);
    expect((await device.confirm(reissuedDid)).status).toBe(200);
    const canceledCall = newProviderCallId();
    const toCancel = await twice('post', '/sessions', { body: { provider: 'five9', callId: canceledCall }, headers: { 'Idempotency-Key': `open-${canceledCall}` } });
    keep('canceled code', (toCancel.body as { did: string }).did);
    await twice('post', '/sessions/{sessionId}/cancel', { params: { sessionId: (toCancel.body as { sessionId: string }).sessionId }, headers: { 'Idempotency-Key': `cancel-${canceledCall}` } });

    // The balance as the IVR spoke it, and as the bank holds it.
    keep('balance', '1250.50');
    keep('balance spoken', '1,250.50');
  });

  afterAll(async () => {
    raw?.disconnect();
    await api?.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const describeFindings = (found: Finding[]) => found.map((f) => `${f.label} in ${f.where}`);

  it('when every key and value is read by its type after whole calls and API flows, then no code, token, link or balance is in it', async () => {
    expect(await raw.dbsize()).toBeGreaterThan(10);
    expect(describeFindings(await scanLive(raw, needles))).toEqual([]);
  });

  it('when the store is dumped to an RDB file, then its bytes hold none of them either', async () => {
    expect(describeFindings(await scanDump(await dump(), needles))).toEqual([]);
  });

  it('when canaries are planted in every kind of value, then both scans find each (the scans can fail)', async () => {
    const canaries = new Map([
      ['string canary', '739104'],
      ['hash canary', 'canary-hash-value-1250.50'],
      ['hash integer canary', '815273'],
      ['list canary', 'canary-list-item'],
      ['set integer canary', '602918'],
      ['zset canary', 'canary-zset-member'],
      ['stream canary', 'canary-stream-value'],
      ['long string canary', `https://ivr.bank.test/s/${'k'.repeat(43)}`],
    ]);
    const v = (label: string) => canaries.get(label) as string;
    const prefix = 'canary:';
    await raw.set(`${prefix}s`, v('string canary'));
    await raw.hset(`${prefix}h`, { a: v('hash canary'), b: v('hash integer canary') });
    await raw.rpush(`${prefix}l`, 'x', v('list canary'));
    await raw.sadd(`${prefix}set`, '1', v('set integer canary'));
    await raw.zadd(`${prefix}z`, 1, v('zset canary'));
    await raw.xadd(`${prefix}x`, '*', 'f', v('stream canary'));
    await raw.set(`${prefix}long`, v('long string canary'));
    try {
      const live = await scanLive(raw, canaries);
      expect(new Set(live.map((f) => f.label))).toEqual(new Set(canaries.keys()));
      const dumped = await scanDump(await dump(), canaries);
      expect(new Set(dumped.map((f) => f.label))).toEqual(new Set(canaries.keys()));
    } finally {
      await raw.del(...['s', 'h', 'l', 'set', 'z', 'x', 'long'].map((k) => prefix + k));
    }
  });
});
