import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caller, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';

describe('POST /authenticator/v1/confirmations answers in the contract order: 401, 429, 409, then the code', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('when the body is not a JWS, then 401 invalid_signature', async () => {
    const res = await request(t.app).post('/authenticator/v1/confirmations').set('Content-Type', 'application/jose').send('not.a.jws');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_signature' });
  });

  it('when the audience is another site, then 401 even for a live code', async () => {
    const device = await enrollDevice(t);
    const call = caller(t);
    await call.dial();
    const did = spokenCode(await call.press('1')) ?? '';
    expect((await device.confirm(did, { aud: 'https://other.example' })).status).toBe(401);
    expect(t.twilioFake.callUpdates()).toHaveLength(0);
  });

  it('when a confirmation is sent again with the same jti, then 409 replayed', async () => {
    const device = await enrollDevice(t);
    const call = caller(t);
    await call.dial();
    const did = spokenCode(await call.press('1')) ?? '';
    expect((await device.confirm(did, { jti: 'once' })).status).toBe(200);
    const again = await device.confirm(did, { jti: 'once' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'replayed' });
  });

  it('when a device sends 10 wrong codes, then it is locked (429) even for the right code, and a new code does not unlock it', async () => {
    const device = await enrollDevice(t);
    for (let i = 0; i < 10; i++) {
      const res = await device.confirm(String(100000 + i));
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ error: 'code_not_recognized' });
    }
    const call = caller(t);
    await call.dial();
    const did = spokenCode(await call.press('1')) ?? '';
    const locked = await device.confirm(did);
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ error: 'locked' });
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(t.twilioFake.callUpdates()).toHaveLength(0);
  });

  it('when another device of the same customer keeps guessing, then the customer is locked across devices', async () => {
    const a = await enrollDevice(t, 'cust_lock');
    const b = await enrollDevice(t, 'cust_lock');
    for (let i = 0; i < 5; i++) await a.confirm(String(200000 + i));
    for (let i = 0; i < 5; i++) await b.confirm(String(300000 + i));
    const other = await enrollDevice(t, 'cust_lock');
    expect((await other.confirm('123456')).status).toBe(429);
  });
});
