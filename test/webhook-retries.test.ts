import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caller, PUBLIC_BASE_URL, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { parseTwiml } from './support/twiml.js';

/** Every value under the app's key prefix, as text (strings, hash fields and values, list items). */
async function everyStoredValue(t: TestApp): Promise<Map<string, string>> {
  const redis = t.built.deps.store.redis;
  const keys = await redis.keys(`${t.config.keyPrefix}*`);
  const out = new Map<string, string>();
  for (const key of keys) {
    const type = await redis.type(key);
    if (type === 'string') out.set(key, (await redis.get(key)) ?? '');
    else if (type === 'hash') out.set(key, JSON.stringify(await redis.hgetall(key)));
    else if (type === 'list') out.set(key, (await redis.lrange(key, 0, -1)).join('\n'));
    else if (type === 'zset') out.set(key, (await redis.zrange(key, 0, -1)).join('\n'));
    else if (type === 'set') out.set(key, (await redis.smembers(key)).join('\n'));
  }
  return out;
}

const pathOf = (url: string | undefined) => (url ?? '').replace(PUBLIC_BASE_URL, '');

describe('webhook retries (DESIGN A3): one side effect, the same answer, nothing readable left behind', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('when a retry arrives while the first delivery is still being answered, then both get the same code and one session exists', async () => {
    const call = caller(t);
    await call.dial();
    const params = { CallSid: call.callSid, Digits: '1', CallStatus: 'in-progress' };
    const headers = { 'I-Twilio-Idempotency-Token': 'retry-in-flight' };
    const [first, second] = await Promise.all([t.twilioPost(pathOf(call.last.gather?.action), params, headers), t.twilioPost(pathOf(call.last.gather?.action), params, headers)]);
    expect(first.status).toBe(200);
    expect(second.text).toBe(first.text);
    expect(spokenCode(parseTwiml(first.text))).toMatch(/^\d{6}$/);
    const events = (await t.built.deps.audit.timeline(call.callSid)) ?? [];
    expect(events.filter((e) => e.type === 'session_created')).toHaveLength(1);
  });

  it('when the code has been spoken and replayed to a retry, then no stored value holds it in clear', async () => {
    const call = caller(t);
    await call.dial();
    const params = { CallSid: call.callSid, Digits: '1', CallStatus: 'in-progress' };
    const headers = { 'I-Twilio-Idempotency-Token': 'speak-the-code' };
    const first = await t.twilioPost(pathOf(call.last.gather?.action), params, headers);
    const replay = await t.twilioPost(pathOf(call.last.gather?.action), params, headers);
    const did = spokenCode(parseTwiml(first.text)) ?? '';
    expect(did).toMatch(/^\d{6}$/);
    expect(replay.text).toBe(first.text);
    const stored = await everyStoredValue(t);
    expect(stored.size).toBeGreaterThan(0);
    // As digits, and as spoken ("4, 8, 1, 5, 9, 2"): the answer that spoke it is kept sealed.
    const spoken = did.split('').join(', ');
    for (const [key, value] of stored) {
      expect(value.includes(did), key).toBe(false);
      expect(value.includes(spoken), key).toBe(false);
    }
  });

  it('when a call takes many turns, then it keeps one stored answer, not one per webhook', async () => {
    const call = caller(t);
    await call.dial();
    await call.press('1');
    for (let i = 0; i < 3; i++) await call.press('1');
    const answerKeys = [...(await everyStoredValue(t)).keys()].filter((k) => k.includes(':wh:'));
    expect(answerKeys).toHaveLength(1);
  });
});
