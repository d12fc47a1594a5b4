import request from 'supertest';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { makeTestDevice } from './support/device.js';
import { eventually } from './support/eventually.js';
import { startRedisServer, type RedisServer } from '../scripts/lib/redis-server.js';

/** DESIGN A12: an asynchronous failover must not bring a revoked device back. */
describe('when the store has a replica, device enrolment and revocation wait for its acknowledgement', () => {
  let t: TestApp | undefined;
  const servers: RedisServer[] = [];
  const clients: Redis[] = [];
  afterEach(async () => {
    await t?.close();
    clients.splice(0).forEach((c) => c.disconnect());
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('then the replica holds each enrolment and revocation when it is answered; once the replica is gone both answer 503 store_unavailable, the refused enrolment is undone and the revocation stands on the primary', async () => {
    // Destructive (a replica killed): our own servers.
    const primary = await startRedisServer();
    const replica = await startRedisServer(['--replicaof', '127.0.0.1', String(primary.port)]);
    servers.push(primary, replica);
    const onPrimary = new Redis(primary.url);
    const onReplica = new Redis(replica.url);
    clients.push(onPrimary, onReplica);
    onReplica.on('error', () => undefined);
    await eventually(async () => expect(await onReplica.info('replication')).toMatch(/master_link_status:up/), 10_000);
    t = await startTestApp({ redisUrl: primary.url });
    const deviceKey = (id: string) => `${t?.config.keyPrefix ?? ''}dev:${id}`;
    const admin = { Authorization: `Bearer ${t.adminKey}` };

    const kept = await enrollDevice(t);
    const revoked = await enrollDevice(t);
    // Read straight after the answer: the replica already has what the answer promised.
    expect(await onReplica.hget(deviceKey(kept.deviceId), 'status')).toBe('active');
    expect((await request(t.app).delete(`/admin/v1/devices/${revoked.deviceId}`).set(admin)).status).toBe(204);
    expect(await onReplica.hget(deviceKey(revoked.deviceId), 'status')).toBe('revoked');

    await replica.stop();
    const { publicJwk } = await makeTestDevice('ES256');
    const refused = await request(t.app).post('/admin/v1/devices').set(admin).send({ customerId: 'cust_001', publicJwk, label: 'phone' });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: 'store_unavailable' });
    expect(await onPrimary.keys(deviceKey('*'))).toHaveLength(2);

    const unacknowledged = await request(t.app).delete(`/admin/v1/devices/${kept.deviceId}`).set(admin);
    expect(unacknowledged.status).toBe(503);
    expect(unacknowledged.body).toMatchObject({ error: 'store_unavailable' });
    expect(await onPrimary.hget(deviceKey(kept.deviceId), 'status')).toBe('revoked');
  });
});
