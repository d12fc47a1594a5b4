import { afterEach, describe, expect, it } from 'vitest';
import { caller, startTestApp, type TestApp } from './support/app.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { heard } from './support/twiml.js';

describe('when the store goes away mid-call (DESIGN B3, FAIL_MODE=closed)', () => {
  let t: TestApp | undefined;
  let redis: RedisServer | undefined;
  afterEach(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('then the caller hears an apology and goes to the agent queue tagged unverified within 2 s, never a 500', async () => {
    redis = await startRedisServer();
    t = await startTestApp({ redisUrl: redis.url });
    const call = caller(t);
    await call.dial();
    await redis.stop();

    const started = Date.now();
    const answer = await call.press('1');
    const elapsed = Date.now() - started;

    expect(elapsed).toBeLessThan(2000);
    expect(answer.enqueue).toMatch(/unverified$/);
    expect(heard(answer)).toMatch(/sorry/i);
    expect(answer.gather).toBeUndefined();
    expect(t.logs.some((l) => (l.audit as { type?: string } | undefined)?.type === 'fail_closed')).toBe(true);
  });
});
