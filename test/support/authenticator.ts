import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { makeTestDevice, signConfirmation } from './device.js';
import { PUBLIC_BASE_URL, type TestApp } from './app.js';

/** An enrolled authenticator app: a device key made with jose, enrolled through the admin API. */
export async function enrollDevice(t: TestApp, customerId = 'cust_001') {
  const { privateKey, publicJwk } = await makeTestDevice('ES256');
  const res = await request(t.app)
    .post('/admin/v1/devices')
    .set('Authorization', `Bearer ${t.adminKey}`)
    .send({ customerId, publicJwk, label: 'test phone' });
  if (res.status !== 201) throw new Error(`enrollment answered ${res.status}`);
  const deviceId = (res.body as { deviceId: string }).deviceId;
  return {
    deviceId,
    customerId,
    /** Signs and posts a confirmation of `did`, as the app would. */
    async confirm(did: string, overrides: { jti?: string; aud?: string } = {}) {
      const iat = Math.floor(t.clock.now() / 1000);
      const jws = await signConfirmation({
        privateKey,
        kid: deviceId,
        did,
        aud: overrides.aud ?? PUBLIC_BASE_URL,
        iat,
        exp: iat + 60,
        jti: overrides.jti ?? randomUUID(),
      });
      return request(t.app).post('/authenticator/v1/confirmations').set('Content-Type', 'application/jose').send(jws);
    },
  };
}
