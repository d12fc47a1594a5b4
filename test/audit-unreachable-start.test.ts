import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startPostgresServer, type PostgresServer } from '../scripts/lib/postgres-server.js';
import { freePort, startRedisServer, type RedisServer } from '../scripts/lib/redis-server.js';
import { send, signedWebhook, startAppProcess } from './support/app-process.js';
import { eventually } from './support/eventually.js';
import { newCallSid } from './support/app.js';
import { parseTwiml } from './support/twiml.js';

/**
 * DESIGN A2 and A11: a trail database that cannot be reached at start is one log line naming
 * AUDIT_DATABASE_URL and its host, /readyz is 503 until it has been reached, and no restart is
 * needed. Callers meanwhile are served (not the apology): their events wait in the store's outbox,
 * which is what the outbox is for, and reach the database once it is up.
 */
describe('when the audit trail database cannot be reached at start', { timeout: 90_000 }, () => {
  let app: ReturnType<typeof startAppProcess> | undefined;
  let redis: RedisServer | undefined;
  let postgres: PostgresServer | undefined;
  afterEach(async () => {
    await app?.stop();
    await redis?.stop();
    await postgres?.destroy();
  });

  it('then one log line names AUDIT_DATABASE_URL and its host, /readyz is 503, a caller is served, and it is ready within 5 s of PostgreSQL starting, the waiting events delivered', async () => {
    postgres = await startPostgresServer();
    await postgres.stop();
    redis = await startRedisServer();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const publicBaseUrl = `http://localhost:${port}`;
    app = startAppProcess({ PORT: String(port), HOST: '127.0.0.1', REDIS_URL: redis.url, AUDIT_DATABASE_URL: postgres.url, LOG_LEVEL: 'info' });
    const running = app;
    await eventually(() => expect(running.output().stdout).toMatch(/Vaultline IVR is running/), 30_000, 100);

    expect((await send(`${base}/readyz`)).status).toBe(503);
    const callSid = newCallSid();
    const hook = signedWebhook(publicBaseUrl, '/twilio/voice', { CallSid: callSid, From: '+14155550101', To: '+18005550199', CallStatus: 'ringing' });
    const answered = await send(`${base}/twilio/voice`, { method: 'POST', ...hook });
    expect(answered.status).toBe(200);
    expect(parseTwiml(answered.body).gather).toBeDefined();

    await eventually(() => expect(running.lines().filter((l) => l.includes('AUDIT_DATABASE_URL') && l.includes('unreachable'))).toHaveLength(1), 10_000, 100);
    const naming = running.lines().filter((l) => l.includes('AUDIT_DATABASE_URL') && l.includes('unreachable'));
    expect(naming[0]).toContain(`127.0.0.1:${postgres.port}`);
    expect(running.output().all).not.toMatch(/Unhandled|ECONNREFUSED.*\n\s+at /);

    await postgres.start();
    const up = Date.now();
    await eventually(async () => expect((await send(`${base}/readyz`)).status).toBe(200), 5000, 50);
    expect(Date.now() - up).toBeLessThan(5000);
    const db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
    try {
      await eventually(async () => {
        const rows = await db.query<{ type: string }>('SELECT type FROM audit_events WHERE call_id = $1', [callSid]);
        expect(rows.rows.map((r) => r.type)).toContain('call_started');
      }, 5000, 100);
    } finally {
      await db.end();
    }
    expect(running.exitCode).toBeUndefined();
  });
});
