import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { SigningJwk } from '../src/config/load.js';
import { manualClock } from '../src/shared/clock.js';
import {
  CALL_TOKEN_CLOCK_TOLERANCE_SECONDS,
  CALL_TOKEN_LIFETIME_SECONDS,
  createCallTokens,
  InvalidCallTokenError,
  type CallTokenRefusal,
  type CallTokens,
} from '../src/verification/call-token.js';
import { PUBLIC_BASE_URL, startTestApp } from './support/app.js';
import { b64json } from './support/device.js';

const ISSUER = 'https://ivr.bank.test/ivr';
const CALL = 'CA11111111111111111111111111111111';
const OTHER_CALL = 'CA22222222222222222222222222222222';
const ADA = { customerId: 'cust_001', callId: CALL, sessionId: 'ses_demo_1' };

async function signingKey(kid: string, alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<SigningJwk> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid, kty: jwk.kty as string, d: jwk.d as string };
}

async function tokensWith(signingKeys: readonly SigningJwk[], ended: ReadonlySet<string> = new Set()) {
  const clock = manualClock();
  const tokens = await createCallTokens({ signingKeys, issuer: ISSUER, clock, isTokenLive: async (cid) => !ended.has(cid) });
  return { tokens, clock };
}

/** The refusal's private reason, after checking the public face of it says nothing about the token. */
async function refusal(tokens: CallTokens, token: string, callId = CALL): Promise<CallTokenRefusal> {
  const err: unknown = await tokens.verify(token, { callId }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof InvalidCallTokenError)) throw new Error('the token was accepted (or failed with another error)');
  expect(err.code).toBe('unauthorized');
  expect(err.message).toBe('The call token is not valid for this call.');
  expect(err.cause).toBeUndefined();
  return err.reason;
}

/** A token with our claims, signed however the test likes; `undefined` removes a claim. */
async function forge(jwk: SigningJwk, header: Record<string, unknown>, claims: Record<string, unknown> = {}) {
  const now = Math.floor(manualClock().now() / 1000);
  const payload = { iss: ISSUER, aud: ISSUER, sub: 'cust_001', cid: CALL, sid: 'ses_demo_1', amr: ['did'], iat: now, exp: now + 60, jti: 'forged', ...claims };
  const key = await importJWK(jwk as JWK, jwk.kty === 'OKP' ? 'EdDSA' : 'ES256');
  // JSON drops `undefined`, so an overridden-away claim is really missing.
  return new SignJWT(payload).setProtectedHeader({ alg: jwk.kty === 'OKP' ? 'EdDSA' : 'ES256', ...header }).sign(key);
}

describe('call-bound token (A7): minted when a session is confirmed, accepted only for its own live call', () => {
  it('when a token is minted for a confirmed session, then it carries the A7 header and claims and verifies for the same call', async () => {
    const { tokens, clock } = await tokensWith([await signingKey('k-2026-11')]);
    const minted = await tokens.mint(ADA);

    expect(decodeProtectedHeader(minted.token)).toEqual({ alg: 'ES256', typ: 'call+jwt', kid: 'k-2026-11' });
    const claims = decodeJwt(minted.token);
    expect(claims).toMatchObject({ iss: ISSUER, aud: ISSUER, sub: 'cust_001', cid: CALL, sid: 'ses_demo_1', amr: ['did'], jti: minted.jti });
    expect(claims.iat).toBe(Math.floor(clock.now() / 1000));
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(CALL_TOKEN_LIFETIME_SECONDS);
    expect(minted.expiresAt).toBe((claims.exp ?? 0) * 1000);
    expect(minted.jti.length).toBeGreaterThanOrEqual(22);

    await expect(tokens.verify(minted.token, { callId: CALL })).resolves.toEqual({
      customerId: 'cust_001',
      callId: CALL,
      sessionId: 'ses_demo_1',
      jti: minted.jti,
      exp: claims.exp,
    });
  });

  it('when two tokens are minted, then their jti differ', async () => {
    const { tokens } = await tokensWith([await signingKey('k1')]);
    const [a, b] = await Promise.all([tokens.mint(ADA), tokens.mint(ADA)]);
    expect(a.jti).not.toBe(b.jti);
  });

  it('when the token is presented on another call, then it is refused', async () => {
    const { tokens } = await tokensWith([await signingKey('k1')]);
    const { token } = await tokens.mint(ADA);
    expect(await refusal(tokens, token, OTHER_CALL)).toBe('other_call');
  });

  it('when the call has ended (status callback or call_ended), then its still-unexpired token is refused', async () => {
    const ended = new Set<string>();
    const { tokens } = await tokensWith([await signingKey('k1')], ended);
    const { token } = await tokens.mint(ADA);
    await expect(tokens.verify(token, { callId: CALL })).resolves.toMatchObject({ callId: CALL });
    ended.add(CALL);
    expect(await refusal(tokens, token)).toBe('call_ended');
  });

  it('when the store cannot say whether the call ended, then verification fails with that error, not a quiet pass', async () => {
    const clock = manualClock();
    const tokens = await createCallTokens({
      signingKeys: [await signingKey('k1')],
      issuer: ISSUER,
      clock,
      isTokenLive: async () => {
        throw new Error('Command timed out');
      },
    });
    const { token } = await tokens.mint(ADA);
    await expect(tokens.verify(token, { callId: CALL })).rejects.toThrow('Command timed out');
  });

  it('when five minutes (plus the clock tolerance) have passed, then the token is refused as expired', async () => {
    const { tokens, clock } = await tokensWith([await signingKey('k1')]);
    const { token } = await tokens.mint(ADA);
    clock.advance((CALL_TOKEN_LIFETIME_SECONDS - 1) * 1000);
    await expect(tokens.verify(token, { callId: CALL })).resolves.toMatchObject({ callId: CALL });
    clock.advance((CALL_TOKEN_CLOCK_TOLERANCE_SECONDS + 2) * 1000);
    expect(await refusal(tokens, token)).toBe('expired');
  });

  it('when the payload is changed after signing (another customer), then the signature check refuses it', async () => {
    const { tokens } = await tokensWith([await signingKey('k1')]);
    const { token } = await tokens.mint(ADA);
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
    const tampered = `${h}.${b64json({ ...claims, sub: 'cust_002' })}.${s}`;
    expect(await refusal(tokens, tampered)).toBe('bad_signature');
  });

  it('when a device confirmation (typ did-confirmation+jwt) is signed by our own key, then it is never taken for a call token', async () => {
    const key = await signingKey('k1');
    const { tokens } = await tokensWith([key]);
    const confirmation = await forge(key, { typ: 'did-confirmation+jwt', kid: 'k1' }, { did: '482913' });
    expect(await refusal(tokens, confirmation)).toBe('bad_typ');
    // jose alone would normalise `application/call+jwt` to `call+jwt`; A7 wants the exact value.
    expect(await refusal(tokens, await forge(key, { typ: 'application/call+jwt', kid: 'k1' }))).toBe('bad_typ');
    expect(await refusal(tokens, await forge(key, { kid: 'k1' }))).toBe('bad_typ');
  });

  it('when a token is signed by a key whose kid is not listed, then it is refused', async () => {
    const { tokens } = await tokensWith([await signingKey('k1')]);
    const stranger = await signingKey('k-stranger');
    expect(await refusal(tokens, await forge(stranger, { typ: 'call+jwt', kid: 'k-stranger' }))).toBe('unknown_kid');
    // A stranger that borrows a listed kid still fails the signature.
    expect(await refusal(tokens, await forge(stranger, { typ: 'call+jwt', kid: 'k1' }))).toBe('bad_signature');
    expect(await refusal(tokens, await forge(stranger, { typ: 'call+jwt' }))).toBe('missing_kid');
  });

  it('when the header says alg none, then it is refused before any key is used', async () => {
    const { tokens } = await tokensWith([await signingKey('k1')]);
    const { token } = await tokens.mint(ADA);
    const payload = token.split('.')[1] as string;
    expect(await refusal(tokens, `${b64json({ alg: 'none', typ: 'call+jwt', kid: 'k1' })}.${payload}.`)).toBe('malformed');
    expect(await refusal(tokens, `${b64json({ alg: 'none', typ: 'call+jwt', kid: 'k1' })}.${payload}.AAAA`)).toBe('alg_not_allowed');
  });

  it('when the token is HS256-signed with our public key as the secret (algorithm confusion), then it is refused', async () => {
    const key = await signingKey('k1');
    const { tokens } = await tokensWith([key]);
    const now = Math.floor(manualClock().now() / 1000);
    const hs = await new SignJWT({ cid: CALL, sid: 'ses_demo_1', amr: ['did'] })
      .setProtectedHeader({ alg: 'HS256', typ: 'call+jwt', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(ISSUER)
      .setSubject('cust_001')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .setJti('hs')
      .sign(new TextEncoder().encode(JSON.stringify({ kty: key.kty, crv: key.crv, x: key.x, y: key.y })));
    expect(await refusal(tokens, hs)).toBe('alg_not_allowed');
  });

  it('when the header embeds its own key (jwk) or a key URL (jku), then it is refused even if the signature is good', async () => {
    const key = await signingKey('k1');
    const { tokens } = await tokensWith([key]);
    const publicJwk = { kty: key.kty, crv: key.crv, x: key.x, y: key.y } as JWK;
    expect(await refusal(tokens, await forge(key, { typ: 'call+jwt', kid: 'k1', jwk: publicJwk }))).toBe('embedded_key');
    expect(await refusal(tokens, await forge(key, { typ: 'call+jwt', kid: 'k1', jku: 'https://evil.test/jwks' }))).toBe('embedded_key');
  });

  it('when a claim is missing, a different issuer or audience is named, or the lifetime is over five minutes, then it is refused', async () => {
    const key = await signingKey('k1');
    const { tokens } = await tokensWith([key]);
    const h = { typ: 'call+jwt', kid: 'k1' };
    expect(await refusal(tokens, await forge(key, h, { sid: undefined }))).toBe('missing_claim');
    expect(await refusal(tokens, await forge(key, h, { cid: undefined }))).toBe('missing_claim');
    expect(await refusal(tokens, await forge(key, h, { iss: 'https://other.test' }))).toBe('bad_issuer');
    expect(await refusal(tokens, await forge(key, h, { aud: 'https://other.test' }))).toBe('bad_audience');
    expect(await refusal(tokens, await forge(key, h, { aud: [ISSUER, 'https://other.test'] }))).toBe('bad_audience');
    expect(await refusal(tokens, await forge(key, h, { amr: ['pwd'] }))).toBe('bad_claim');
    const now = Math.floor(manualClock().now() / 1000);
    expect(await refusal(tokens, await forge(key, h, { exp: now + CALL_TOKEN_LIFETIME_SECONDS + 60 }))).toBe('bad_lifetime');
    // The forged tokens are otherwise valid: with every claim right the same signer is accepted.
    await expect(tokens.verify(await forge(key, h), { callId: CALL })).resolves.toMatchObject({ customerId: 'cust_001' });
  });

  it('when TOKEN_SIGNING_KEYS lists two keys, then a token signed by the second listed key still verifies (rotation)', async () => {
    const current = await signingKey('k-2026-11', 'ES256');
    const previous = await signingKey('k-2026-10', 'EdDSA');
    const { tokens: both } = await tokensWith([current, previous]);
    const { tokens: old } = await tokensWith([previous]);

    const oldToken = (await old.mint(ADA)).token;
    expect(decodeProtectedHeader(oldToken)).toMatchObject({ alg: 'EdDSA', kid: 'k-2026-10' });
    await expect(both.verify(oldToken, { callId: CALL })).resolves.toMatchObject({ customerId: 'cust_001' });

    // New tokens are signed by the first key only.
    expect(decodeProtectedHeader((await both.mint(ADA)).token)).toMatchObject({ alg: 'ES256', kid: 'k-2026-11' });
    // Once the old key is dropped from the list, its tokens stop working.
    const { tokens: rotatedOut } = await tokensWith([current]);
    expect(await refusal(rotatedOut, oldToken)).toBe('unknown_kid');
  });

  it('when the list is empty (development), then a key is generated per process and tokens of another process are refused', async () => {
    const { tokens: a } = await tokensWith([]);
    const { tokens: b } = await tokensWith([]);
    const minted = await a.mint(ADA);
    const header = decodeProtectedHeader(minted.token);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'call+jwt' });
    expect(header.kid).toMatch(/^dev-/);
    await expect(a.verify(minted.token, { callId: CALL })).resolves.toMatchObject({ callId: CALL });
    expect(await refusal(b, minted.token)).toBe('unknown_kid');
  });

  it('when the same kid is listed twice, then start-up stops naming the kid', async () => {
    const key = await signingKey('k-dup');
    await expect(tokensWith([key, await signingKey('k-dup')])).rejects.toThrow('kid "k-dup" is listed twice');
  });

  it('when a call token is posted to /authenticator/v1/confirmations, then it is refused 401 as a confirmation', async () => {
    const t = await startTestApp();
    try {
      // The worst case: the token is signed by an enrolled device's own key, with that device's id as kid.
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
      const enrolled = await request(t.app)
        .post('/admin/v1/devices')
        .set('Authorization', `Bearer ${t.adminKey}`)
        .send({ customerId: 'cust_001', publicJwk: await exportJWK(publicKey), label: 'test phone' });
      expect(enrolled.status).toBe(201);
      const deviceId = (enrolled.body as { deviceId: string }).deviceId;
      const jwk = await exportJWK(privateKey);
      const tokens = await createCallTokens({
        signingKeys: [{ ...jwk, kid: deviceId, kty: 'EC', d: jwk.d as string }],
        issuer: PUBLIC_BASE_URL,
        clock: t.clock,
        isTokenLive: async () => true,
      });
      const { token } = await tokens.mint(ADA);

      const res = await request(t.app).post('/authenticator/v1/confirmations').set('Content-Type', 'application/jose').send(token);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'invalid_signature' });
      expect(t.logs.some((l) => l.reason === 'bad_typ')).toBe(true);
      expect(t.twilioFake.callUpdates()).toHaveLength(0);
    } finally {
      await t.close();
    }
  });
});
