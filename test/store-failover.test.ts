import request from 'supertest';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTestDevice } from './support/device.js';
import { caller, startTestApp, type TestApp } from './support/app.js';
import { heard } from './support/twiml.js';
import { startRedisServer, type RedisServer } from '../scripts/lib/redis-server.js';
import { eventually } from './support/eventually.js';

/** DESIGN A9, A12: a primary demoted behind the same address (as Sentinel or ElastiCache do it). */
describe('when the store becomes a read-only replica and is then promoted again', () => {
  let t: TestApp | undefined;
  const servers: RedisServer[] = [];
  const admins: Redis[] = [];
  afterEach(async () => {
    await t?.close();
    admins.splice(0).forEach((r) => r.disconnect());
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('then /readyz is 503 within 2 s, JSON routes answer 503 store_unavailable, callers hear the apology, and within 5 s of REPLICAOF NO ONE calls are served again without a restart', async () => {
    // Destructive (REPLICAOF): always our own servers, whatever REDIS_URL says.
    const primary = await startRedisServer();
    const other = await startRedisServer();
    servers.push(primary, other);
    t = await startTestApp({ redisUrl: primary.url });
    const app = t.app;
    expect((await request(app).get('/readyz')).status).toBe(200);
    const admin = new Redis(primary.url);
    admins.push(admin);

    await admin.replicaof('127.0.0.1', String(other.port));
    const demoted = Date.now();
    await eventually(async () => expect((await request(app).get('/readyz')).status).toBe(503), 2000);
    expect(Date.now() - demoted).toBeLessThan(2000);

    const { publicJwk } = await makeTestDevice('ES256');
    const enrol = await request(app).post('/admin/v1/devices').set('Authorization', `Bearer ${t.adminKey}`).send({ customerId: 'cust_001', publicJwk, label: 'phone' });
    expect(enrol.status).toBe(503);
    expect(enrol.body).toMatchObject({ error: 'store_unavailable' });

    const during = await caller(t).dial();
    expect(heard(during)).toMatch(/sorry/i);
    expect(during.enqueue).toMatch(/unverified$/);
    expect(t.logs.some((l) => (l.audit as { type?: string } | undefined)?.type === 'fail_closed')).toBe(true);

    await admin.replicaof('NO', 'ONE');
    const promoted = Date.now();
    const current = t;
    await eventually(async () => {
      expect((await request(app).get('/readyz')).status).toBe(200);
      expect((await caller(current).dial()).gather).toBeDefined();
    }, 5000);
    expect(Date.now() - promoted).toBeLessThan(5000);
    const again = await request(app).post('/admin/v1/devices').set('Authorization', `Bearer ${current.adminKey}`).send({ customerId: 'cust_001', publicJwk, label: 'phone' });
    expect(again.status).toBe(201);
  });
});
