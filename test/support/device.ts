import { randomUUID, webcrypto } from 'node:crypto';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export type TestDeviceAlg = 'ES256' | 'EdDSA';

/** An authenticator app's key pair: the private key stays in the test, the public JWK is what gets enrolled. */
export async function makeTestDevice(alg: TestDeviceAlg = 'ES256'): Promise<{ privateKey: CryptoKey; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { privateKey, publicJwk: await exportJWK(publicKey) };
}

export interface ConfirmationInput {
  privateKey: CryptoKey;
  kid: string;
  did: string;
  aud: string;
  /** Seconds; default now (wall clock: pass it explicitly when the app runs on a manual clock). */
  iat?: number;
  /** Seconds; default iat + 60. */
  exp?: number;
  jti?: string;
  typ?: string;
  /** The header `alg`; default the key's own. Signing always uses the key's real algorithm, so a lie here is still signed. */
  alg?: string;
  /** Merged into the protected header (embedded `jwk`, `jku`, `crit`…); `undefined` removes a member. */
  header?: Record<string, unknown>;
  /** Merged into the payload; `undefined` removes a claim (a missing `jti` or `did`). */
  claims?: Record<string, unknown>;
}

/**
 * Signs a confirmation the way an authenticator app does (A4), with WebCrypto directly rather than
 * jose's signer, so tests can also produce headers a careful library would refuse to write.
 */
export async function signConfirmation(input: ConfirmationInput): Promise<string> {
  const iat = input.iat ?? Math.floor(Date.now() / 1000);
  const keyAlg: TestDeviceAlg = input.privateKey.algorithm.name === 'Ed25519' ? 'EdDSA' : 'ES256';
  const header = withOverrides({ alg: input.alg ?? keyAlg, typ: input.typ ?? 'did-confirmation+jwt', kid: input.kid }, input.header);
  const payload = withOverrides(
    { did: input.did, aud: input.aud, iat, exp: input.exp ?? iat + 60, jti: input.jti ?? randomUUID() },
    input.claims,
  );
  const signingInput = `${b64json(header)}.${b64json(payload)}`;
  const params = keyAlg === 'EdDSA' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' };
  // WebCrypto ECDSA signatures are already the raw r||s form JWS wants (RFC 7518 §3.4).
  const signature = await webcrypto.subtle.sign(params, input.privateKey, new TextEncoder().encode(signingInput));
  return `${signingInput}.${Buffer.from(signature).toString('base64url')}`;
}

function withOverrides(base: Record<string, unknown>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const out = { ...base, ...overrides };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out;
}

export const b64json = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
