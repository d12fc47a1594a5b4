import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startRedisServer, type RedisServer } from '../scripts/lib/redis-server.js';
import { send, signedWebhook, startAppProcess } from './support/app-process.js';
import { eventually } from './support/eventually.js';
import { newCallSid } from './support/app.js';
import { parseTwiml } from './support/twiml.js';

describe('when Redis cannot be reached at start (DESIGN A2: no crash loop during an outage)', { timeout: 60_000 }, () => {
  let app: ReturnType<typeof startAppProcess> | undefined;
  let redis: RedisServer | undefined;
  afterEach(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it('then one log line names REDIS_URL and its host, /readyz is 503, callers hear the apology, and it is ready within 5 s of redis-server starting', async () => {
    const redisPort = await freePort();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const publicBaseUrl = `http://localhost:${port}`;
    app = startAppProcess({ PORT: String(port), HOST: '127.0.0.1', REDIS_URL: `redis://127.0.0.1:${redisPort}`, LOG_LEVEL: 'info' });
    const running = app;
    await eventually(() => expect(running.output().stdout).toMatch(/Vaultline IVR is running/), 30_000, 100);

    const ready = await send(`${base}/readyz`);
    expect(ready.status).toBe(503);
    const call = (callSid: string) => {
      const hook = signedWebhook(publicBaseUrl, '/twilio/voice', { CallSid: callSid, From: '+14155550101', To: '+18005550199', CallStatus: 'ringing' });
      return send(`${base}/twilio/voice`, { method: 'POST', ...hook });
    };
    const during = await call(newCallSid());
    expect(during.status).toBe(200);
    const apology = parseTwiml(during.body);
    expect(apology.says.map((s) => s.text).join(' ')).toMatch(/sorry/i);
    expect(apology.enqueue).toMatch(/unverified$/);

    const naming = running.lines().filter((l) => l.includes('REDIS_URL'));
    expect(naming).toHaveLength(1);
    expect(naming[0]).toContain(`127.0.0.1:${redisPort}`);
    expect(running.output().all).not.toMatch(/Unhandled error event|Connection is closed/);

    redis = await startRedisServer([], redisPort);
    const up = Date.now();
    await eventually(async () => expect((await send(`${base}/readyz`)).status).toBe(200), 5000);
    expect(Date.now() - up).toBeLessThan(5000);
    const served = parseTwiml((await call(newCallSid())).body);
    expect(served.gather).toBeDefined();
    expect(running.exitCode).toBeUndefined();
  });
});
