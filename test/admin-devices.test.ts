import express from 'express';
import { exportJWK, generateKeyPair } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createAudit, type Audit } from '../src/audit/audit.js';
import { createMetrics } from '../src/audit/metrics.js';
import type { Sql } from '../src/audit/trail/sql.js';
import { createAdminRouter } from '../src/http/admin.js';
import { jsonErrorHandler } from '../src/http/json-errors.js';
import { createLogger } from '../src/log/logger.js';
import { cryptoRandom, manualClock } from '../src/shared/clock.js';
import { createStore, type Store } from '../src/store/client.js';
import { createKeys } from '../src/store/keys.js';
import { createDevices, type Devices } from '../src/verification/devices.js';
import { freshAuditSql, TEST_DATA_SECRET } from './support/audit-db.js';
import { makeTestDevice } from './support/device.js';
import { freshPrefix } from './support/prefix.js';

const ADMIN_KEY = 'test-admin-key-0123456789';
const auth = { Authorization: `Bearer ${ADMIN_KEY}` };

describe('back-office device enrollment and revocation (/admin/v1)', () => {
  let store: Store;
  let devices: Devices;
  let audit: Audit;
  let sql: Sql;
  let app: express.Express;

  beforeAll(async () => {
    store = await createStore({ kind: 'redis', url: inject('redisUrl') });
    sql = await freshAuditSql();
  });
  afterAll(async () => {
    await store.close();
    await sql.close();
  });
  beforeEach(() => {
    const keys = createKeys(freshPrefix('admin'));
    const clock = manualClock();
    const logger = createLogger({ level: 'silent' });
    devices = createDevices({ redis: store.redis, keys, clock, random: cryptoRandom });
    audit = createAudit({ redis: store.redis, keys, logger, clock, metrics: createMetrics(), sql, dataSecret: TEST_DATA_SECRET, setting: 'AUDIT_DATABASE_URL' });
    app = express();
    app.use(express.json());
    app.use('/admin/v1', createAdminRouter({ adminApiKey: ADMIN_KEY, devices, audit, logger }));
    app.use(jsonErrorHandler(logger));
  });

  const enrollBody = async () => ({ customerId: 'cust_001', publicJwk: (await makeTestDevice()).publicJwk, label: "Ada's phone" });

  describe('authentication', () => {
    it('when no Authorization header is sent, then the answer is 401 unauthorized and nothing is enrolled', async () => {
      const res = await request(app).post('/admin/v1/devices').send(await enrollBody());
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'unauthorized', message: expect.any(String) });
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });

    it('when the bearer key is wrong, a prefix of the right one, or sent as Basic, then every answer is 401', async () => {
      for (const authorization of ['Bearer wrong-key', `Bearer ${ADMIN_KEY.slice(0, -1)}`, `Basic ${ADMIN_KEY}`, 'Bearer ']) {
        const res = await request(app).delete('/admin/v1/devices/dev_AAAAAAAAAAAAAAAAAAAAAA').set('Authorization', authorization);
        expect(res.status, authorization).toBe(401);
        expect(res.body.error).toBe('unauthorized');
      }
    });

    it('when the events of a call are read without the key, then the answer is 401', async () => {
      const res = await request(app).get('/admin/v1/calls/CA123/events');
      expect(res.status).toBe(401);
    });
  });

  describe('enrollment', () => {
    it('when a public ES256 key is enrolled, then the answer is 201 with a new device id and the device is active', async () => {
      const body = await enrollBody();
      const res = await request(app).post('/admin/v1/devices').set(auth).send(body);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ deviceId: expect.stringMatching(/^dev_[A-Za-z0-9_-]{22}$/) });

      const device = await devices.get(res.body.deviceId);
      expect(device).toMatchObject({ customerId: 'cust_001', label: "Ada's phone", alg: 'ES256', status: 'active' });
      expect(device?.publicJwk).toEqual({ kty: 'EC', crv: 'P-256', x: body.publicJwk.x, y: body.publicJwk.y });
    });

    it('when a public Ed25519 key is enrolled, then the device verifies with EdDSA', async () => {
      const { publicJwk } = await makeTestDevice('EdDSA');
      const res = await request(app).post('/admin/v1/devices').set(auth).send({ customerId: 'cust_001', publicJwk, label: 'tablet' });
      expect(res.status).toBe(201);
      expect((await devices.get(res.body.deviceId))?.alg).toBe('EdDSA');
    });

    it('when the same key is enrolled twice, then each enrollment gets its own device id', async () => {
      const body = await enrollBody();
      const a = await request(app).post('/admin/v1/devices').set(auth).send(body);
      const b = await request(app).post('/admin/v1/devices').set(auth).send(body);
      expect(a.body.deviceId).not.toBe(b.body.deviceId);
    });

    it('when the JWK is a private key, then the answer is 400 and nothing is stored', async () => {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const privateJwk = await exportJWK(privateKey);
      expect(privateJwk.d).toBeDefined();
      const res = await request(app).post('/admin/v1/devices').set(auth).send({ customerId: 'cust_001', publicJwk: privateJwk, label: 'x' });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('bad_request');
      expect(res.body.message).toMatch(/public/);
      expect(JSON.stringify(res.body)).not.toContain(privateJwk.d);
    });

    it('when the JWK is a symmetric key, an RSA key, another curve or a point off the curve, then the answer is 400', async () => {
      const { publicJwk } = await makeTestDevice();
      const rsa = await exportJWK((await generateKeyPair('RS256', { extractable: true })).publicKey);
      const offCurve = { ...publicJwk, y: Buffer.alloc(32, 1).toString('base64url') };
      const bad = [
        { kty: 'oct', k: 'c2VjcmV0' },
        rsa,
        { ...publicJwk, crv: 'P-384' },
        { kty: 'OKP', crv: 'X25519', x: publicJwk.x },
        offCurve,
        { ...publicJwk, alg: 'ES384' },
        { ...publicJwk, use: 'enc' },
      ];
      for (const jwk of bad) {
        const res = await request(app).post('/admin/v1/devices').set(auth).send({ customerId: 'cust_001', publicJwk: jwk, label: 'x' });
        expect(res.status, JSON.stringify(jwk)).toBe(400);
        expect(res.body.error).toBe('bad_request');
      }
    });

    it('when the body misses a field, has a wrong type, or is not JSON, then the answer is 400', async () => {
      const good = await enrollBody();
      const bodies: unknown[] = [
        { publicJwk: good.publicJwk, label: 'x' },
        { customerId: 'cust_001', label: 'x' },
        { customerId: 'cust_001', publicJwk: good.publicJwk },
        { customerId: 42, publicJwk: good.publicJwk, label: 'x' },
        { customerId: 'cust_001', publicJwk: 'not-a-jwk', label: 'x' },
        { customerId: 'cust_001', publicJwk: good.publicJwk, label: 'x'.repeat(101) },
      ];
      for (const body of bodies) {
        const res = await request(app).post('/admin/v1/devices').set(auth).send(body as object);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error).toBe('bad_request');
      }
      const notJson = await request(app).post('/admin/v1/devices').set(auth).set('Content-Type', 'application/json').send('{"customerId":');
      expect(notJson.status).toBe(400);
    });
  });

  describe('revocation', () => {
    it('when an enrolled device is deleted, then the answer is 204 and the device stays revoked', async () => {
      const { body } = await request(app).post('/admin/v1/devices').set(auth).send(await enrollBody());
      const res = await request(app).delete(`/admin/v1/devices/${body.deviceId}`).set(auth);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect((await devices.get(body.deviceId))?.status).toBe('revoked');

      const again = await request(app).delete(`/admin/v1/devices/${body.deviceId}`).set(auth);
      expect(again.status).toBe(204);
      expect((await devices.get(body.deviceId))?.status).toBe('revoked');
    });

    it('when an unknown device is deleted, then the answer is 404 not_found and no device appears', async () => {
      for (const id of ['dev_AAAAAAAAAAAAAAAAAAAAAA', 'not-a-device-id']) {
        const res = await request(app).delete(`/admin/v1/devices/${id}`).set(auth);
        expect(res.status).toBe(404);
        expect(res.body.error).toBe('not_found');
        expect(await devices.get(id)).toBeNull();
      }
    });
  });

  describe('call events', () => {
    it('when a call has audit events, then they are listed oldest first; device events are in no call timeline; a call never seen is 404', async () => {
      const sessionId = 'ses_AAAAAAAAAAAAAAAAAAAAAA_test0001';
      await audit.record('session_created', { callId: 'CA1', sessionId, expiresAt: new Date().toISOString() });
      await audit.record('did_issued', { callId: 'CA1', sessionId });
      await request(app).post('/admin/v1/devices').set(auth).send(await enrollBody());

      const res = await request(app).get('/admin/v1/calls/CA1/events').set(auth);
      expect(res.status).toBe(200);
      expect(res.body.callId).toBe('CA1');
      expect(res.body.events.map((e: { type: string }) => e.type)).toEqual(['session_created', 'did_issued']);
      expect(res.body.events[0].at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

      const none = await request(app).get('/admin/v1/calls/CA-never-seen/events').set(auth);
      expect(none.status).toBe(404);
      expect(none.body.error).toBe('not_found');
    });
  });
});
