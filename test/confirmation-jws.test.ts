import express from 'express';
import { generateKeyPair, SignJWT } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createAudit } from '../src/audit/audit.js';
import { createMetrics } from '../src/audit/metrics.js';
import type { Sql } from '../src/audit/trail/sql.js';
import { freshAuditSql, TEST_DATA_SECRET } from './support/audit-db.js';
import { createAdminRouter } from '../src/http/admin.js';
import { jsonErrorHandler } from '../src/http/json-errors.js';
import { createLogger } from '../src/log/logger.js';
import { cryptoRandom, manualClock } from '../src/shared/clock.js';
import { createStore, type Store } from '../src/store/client.js';
import { createKeys, type Keys } from '../src/store/keys.js';
import {
  createConfirmationVerifier,
  InvalidConfirmationError,
  type ConfirmationFailure,
  type ConfirmationVerifier,
} from '../src/verification/confirmation-jws.js';
import { createDevices } from '../src/verification/devices.js';
import { b64json, makeTestDevice, signConfirmation, type ConfirmationInput, type TestDeviceAlg } from './support/device.js';
import { freshPrefix } from './support/prefix.js';

const AUD = 'https://ivr.example.test/vaultline';
const ADMIN_KEY = 'test-admin-key-0123456789';
const DID = '482913';

describe('device confirmation JWS (A4)', () => {
  let store: Store;
  let sql: Sql;
  let app: express.Express;
  let verifier: ConfirmationVerifier;
  let clock: ReturnType<typeof manualClock>;
  let now: () => number;
  let keys: Keys;

  beforeAll(async () => {
    store = await createStore({ kind: 'redis', url: inject('redisUrl') });
    sql = await freshAuditSql();
  });
  afterAll(async () => {
    await store.close();
    await sql.close();
  });
  beforeEach(() => {
    keys = createKeys(freshPrefix('jws'));
    clock = manualClock();
    now = () => Math.floor(clock.now() / 1000);
    const logger = createLogger({ level: 'silent' });
    const devices = createDevices({ redis: store.redis, keys, clock, random: cryptoRandom });
    const audit = createAudit({ redis: store.redis, keys, logger, clock, metrics: createMetrics(), sql, dataSecret: TEST_DATA_SECRET, setting: 'AUDIT_DATABASE_URL' });
    app = express();
    app.use(express.json());
    app.use('/admin/v1', createAdminRouter({ adminApiKey: ADMIN_KEY, devices, audit, logger }));
    app.use(jsonErrorHandler(logger));
    verifier = createConfirmationVerifier({ devices, audience: AUD, clock });
  });

  /** An authenticator app enrolled through the back office, and a signer for its confirmations. */
  async function enrolledDevice(alg: TestDeviceAlg = 'ES256', customerId = 'cust_001') {
    const { privateKey, publicJwk } = await makeTestDevice(alg);
    const res = await request(app)
      .post('/admin/v1/devices')
      .set('Authorization', `Bearer ${ADMIN_KEY}`)
      .send({ customerId, publicJwk, label: `test ${alg}` });
    expect(res.status).toBe(201);
    const kid: string = res.body.deviceId;
    const sign = (over: Partial<ConfirmationInput> = {}) => signConfirmation({ privateKey, kid, did: DID, aud: AUD, iat: now(), ...over });
    return { kid, privateKey, publicJwk, sign };
  }

  async function expectRefused(jws: string, reason: ConfirmationFailure) {
    const err = await verifier.verify(jws).then(
      () => expect.fail('the confirmation was accepted'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidConfirmationError);
    expect(err).toMatchObject({ code: 'invalid_signature', message: 'The confirmation could not be verified.', reason });
    // The reason is for logs: it never carries the token or the code.
    const cause = String((err as Error).cause);
    if (jws.length > 0) expect(cause).not.toContain(jws);
    expect(cause).not.toContain(DID);
  }

  describe('accepted', () => {
    it('when an enrolled ES256 device signs a fresh confirmation, then it verifies to the device, its customer and the claims', async () => {
      const device = await enrolledDevice('ES256');
      const iat = now();
      const jws = await device.sign({ jti: 'jti-1', iat, exp: iat + 120 });
      await expect(verifier.verify(jws)).resolves.toEqual({
        deviceId: device.kid,
        customerId: 'cust_001',
        did: DID,
        jti: 'jti-1',
        iat,
        exp: iat + 120,
      });
    });

    it('when an enrolled Ed25519 device signs with EdDSA, then it is accepted', async () => {
      const device = await enrolledDevice('EdDSA', 'cust_002');
      await expect(verifier.verify(await device.sign())).resolves.toMatchObject({ deviceId: device.kid, customerId: 'cust_002' });
    });

    it('when the phone clock is off by less than 30 s either way, then it is accepted', async () => {
      const device = await enrolledDevice();
      await expect(verifier.verify(await device.sign({ iat: now() + 25 }))).resolves.toMatchObject({ did: DID });
      await expect(verifier.verify(await device.sign({ iat: now() - 80, exp: now() - 20 }))).resolves.toMatchObject({ did: DID });
    });

    it('when the DID has 10 digits, then it is accepted', async () => {
      const device = await enrolledDevice();
      await expect(verifier.verify(await device.sign({ did: '0123456789' }))).resolves.toMatchObject({ did: '0123456789' });
    });
  });

  describe('refused header', () => {
    it('when the token says alg "none" with an empty signature, then it is refused', async () => {
      const { kid } = await enrolledDevice();
      const payload = b64json({ did: DID, aud: AUD, iat: now(), exp: now() + 60, jti: 'n' });
      for (const alg of ['none', 'None', 'NONE']) {
        await expectRefused(`${b64json({ alg, typ: 'did-confirmation+jwt', kid })}.${payload}.`, 'alg_not_allowed');
      }
    });

    it("when the token is HS256 signed with the device's public key as the secret (key confusion), then it is refused", async () => {
      const { kid, publicJwk } = await enrolledDevice();
      for (const secret of [JSON.stringify(publicJwk), 'a-shared-secret-of-enough-length-32b']) {
        const jws = await new SignJWT({ did: DID, jti: 'h' })
          .setProtectedHeader({ alg: 'HS256', typ: 'did-confirmation+jwt', kid })
          .setAudience(AUD)
          .setIssuedAt(now())
          .setExpirationTime(now() + 60)
          .sign(new TextEncoder().encode(secret));
        await expectRefused(jws, 'alg_not_allowed');
      }
    });

    it('when the token is RS256 or ES384, then it is refused whatever the key', async () => {
      const { kid } = await enrolledDevice();
      for (const alg of ['RS256', 'ES384']) {
        const { privateKey } = await generateKeyPair(alg);
        const jws = await new SignJWT({ did: DID, jti: alg })
          .setProtectedHeader({ alg, typ: 'did-confirmation+jwt', kid })
          .setAudience(AUD)
          .setIssuedAt(now())
          .setExpirationTime(now() + 60)
          .sign(privateKey);
        await expectRefused(jws, 'alg_not_allowed');
      }
    });

    it('when the header embeds its own key (jwk) signed by that key, then it is refused', async () => {
      const { kid } = await enrolledDevice();
      const attacker = await makeTestDevice();
      const jws = await signConfirmation({ privateKey: attacker.privateKey, kid, did: DID, aud: AUD, iat: now(), header: { jwk: attacker.publicJwk } });
      await expectRefused(jws, 'embedded_key');
    });

    it('when the header points at a key elsewhere (jku, x5u, x5c), then it is refused even if correctly signed', async () => {
      const device = await enrolledDevice();
      const pointers = [{ jku: 'https://evil.example/jwks.json' }, { x5u: 'https://evil.example/cert.pem' }, { x5c: ['MIIB'] }];
      for (const header of pointers) await expectRefused(await device.sign({ header }), 'embedded_key');
    });

    it('when the header has a crit member, then it is refused', async () => {
      const device = await enrolledDevice();
      await expectRefused(await device.sign({ header: { crit: ['b64'], b64: false } }), 'crit');
    });

    it('when typ is missing or anything but did-confirmation+jwt, then it is refused', async () => {
      const device = await enrolledDevice();
      await expectRefused(await device.sign({ typ: 'JWT' }), 'bad_typ');
      await expectRefused(await device.sign({ typ: 'call+jwt' }), 'bad_typ');
      await expectRefused(await device.sign({ header: { typ: undefined } }), 'bad_typ');
    });

    it('when kid is missing or names no enrolled device, then it is refused', async () => {
      const device = await enrolledDevice();
      await expectRefused(await device.sign({ header: { kid: undefined } }), 'missing_kid');
      await expectRefused(await device.sign({ kid: 'dev_AAAAAAAAAAAAAAAAAAAAAA' }), 'unknown_device');
      await expectRefused(await device.sign({ kid: '../../etc/passwd' }), 'unknown_device');
    });

    it('when the device is revoked through the back office, then its confirmations fail from then on', async () => {
      const device = await enrolledDevice();
      const jws = await device.sign();
      await expect(verifier.verify(jws)).resolves.toMatchObject({ deviceId: device.kid });

      const res = await request(app).delete(`/admin/v1/devices/${device.kid}`).set('Authorization', `Bearer ${ADMIN_KEY}`);
      expect(res.status).toBe(204);

      await expectRefused(jws, 'revoked_device');
      await expectRefused(await device.sign({ jti: 'after-revocation' }), 'revoked_device');
    });

    it("when the header alg is not the device's key type, then it is refused before any signature check", async () => {
      const ed = await enrolledDevice('EdDSA');
      const ec = await makeTestDevice('ES256');
      await expectRefused(await signConfirmation({ privateKey: ec.privateKey, kid: ed.kid, did: DID, aud: AUD, iat: now(), alg: 'ES256' }), 'alg_mismatch');
    });
  });

  describe('refused signature', () => {
    it('when one character of the signature is changed, then it is refused', async () => {
      const device = await enrolledDevice();
      const jws = await device.sign();
      const sig = jws.slice(jws.lastIndexOf('.') + 1);
      const flipped = sig[5] === 'A' ? 'B' : 'A';
      await expectRefused(jws.slice(0, jws.length - sig.length) + sig.slice(0, 5) + flipped + sig.slice(6), 'bad_signature');
    });

    it('when the payload is swapped for another code under the same signature, then it is refused', async () => {
      const device = await enrolledDevice();
      const [h, , s] = (await device.sign()).split('.');
      const forged = b64json({ did: '111111', aud: AUD, iat: now(), exp: now() + 60, jti: 'x' });
      await expectRefused(`${h}.${forged}.${s}`, 'bad_signature');
    });

    it('when another key signs with the device kid, then it is refused', async () => {
      const device = await enrolledDevice();
      const other = await makeTestDevice();
      await expectRefused(await signConfirmation({ privateKey: other.privateKey, kid: device.kid, did: DID, aud: AUD, iat: now() }), 'bad_signature');
    });

    it('when the body is larger than 8 KB or not a compact JWS, then it is refused', async () => {
      const device = await enrolledDevice();
      await expectRefused(await device.sign({ claims: { pad: 'x'.repeat(8 * 1024) } }), 'too_large');
      for (const junk of ['', 'not-a-jws', 'a.b', 'a.b.c.d', '{"did":"482913"}', `${b64json(['x'])}.${b64json({})}.`]) {
        await expectRefused(junk, 'malformed');
      }
    });
  });

  describe('refused claims', () => {
    it('when aud is another service, or an array that merely contains us, then it is refused', async () => {
      const device = await enrolledDevice();
      await expectRefused(await device.sign({ aud: 'https://other.example.test' }), 'bad_audience');
      await expectRefused(await device.sign({ aud: `${AUD}/` }), 'bad_audience');
      await expectRefused(await device.sign({ claims: { aud: [AUD, 'https://other.example.test'] } }), 'bad_audience');
    });

    it('when jti or did is missing, then it is refused', async () => {
      const device = await enrolledDevice();
      await expectRefused(await device.sign({ claims: { jti: undefined } }), 'missing_claim');
      await expectRefused(await device.sign({ claims: { did: undefined } }), 'missing_claim');
      await expectRefused(await device.sign({ claims: { aud: undefined } }), 'missing_claim');
      await expectRefused(await device.sign({ claims: { exp: undefined } }), 'missing_claim');
      await expectRefused(await device.sign({ claims: { iat: undefined } }), 'missing_claim');
    });

    it('when did is not 6 to 10 digits or jti is empty or too long, then it is refused', async () => {
      const device = await enrolledDevice();
      for (const did of ['12345', '12345678901', '48291a', ' 482913']) await expectRefused(await device.sign({ did }), 'bad_claim');
      await expectRefused(await device.sign({ claims: { did: 482913 } }), 'bad_claim');
      await expectRefused(await device.sign({ jti: '' }), 'bad_claim');
      await expectRefused(await device.sign({ jti: 'j'.repeat(129) }), 'bad_claim');
      await expect(verifier.verify(await device.sign({ jti: 'j'.repeat(128) }))).resolves.toBeDefined();
    });
  });

  describe('refused times', () => {
    it('when the lifetime is longer than 120 s, or exp is not after iat, then it is refused', async () => {
      const device = await enrolledDevice();
      await expectRefused(await device.sign({ iat: now(), exp: now() + 121 }), 'bad_lifetime');
      await expectRefused(await device.sign({ iat: now(), exp: now() }), 'bad_lifetime');
    });

    it('when exp passed more than the 30 s tolerance ago, then it is refused as expired', async () => {
      const device = await enrolledDevice();
      const jws = await device.sign({ iat: now(), exp: now() + 60 });
      await expect(verifier.verify(jws)).resolves.toBeDefined();
      clock.advance(90_000);
      await expectRefused(jws, 'expired');
    });

    it('when iat is minutes old, then it is refused as stale even if exp is still ahead', async () => {
      const device = await enrolledDevice();
      await expectRefused(await device.sign({ iat: now() - 300, exp: now() + 60 }), 'stale');
    });

    it('when iat is more than 30 s in the future, then it is refused', async () => {
      const device = await enrolledDevice();
      await expectRefused(await device.sign({ iat: now() + 31, exp: now() + 90 }), 'issued_in_future');
    });
  });
});
