import { randomUUID, webcrypto } from 'node:crypto';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import type { HttpClient } from './http.js';

/**
 * An authenticator app: an ES256 device key enrolled through the admin API, signing confirmations
 * (DESIGN A4) with WebCrypto as a phone would. Mirrors test/support/device.ts, which the benchmark
 * does not import.
 */
export interface Authenticator {
  deviceId: string;
  /** A signed confirmation of `did`, ready to POST (signing is not part of the measured time). */
  sign(did: string): Promise<string>;
}

const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export async function enrollAuthenticator(http: HttpClient, adminKey: string, audience: string, customerId = 'cust_001'): Promise<Authenticator> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const body = JSON.stringify({ customerId, publicJwk: await exportJWK(publicKey), label: 'bench phone' });
  const answer = await http.post('/admin/v1/devices', body, { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` });
  if (answer.status !== 201) throw new Error(`enrollment answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  const deviceId = (JSON.parse(answer.body) as { deviceId: string }).deviceId;
  const key: CryptoKey = privateKey;
  return {
    deviceId,
    async sign(did) {
      const iat = Math.floor(Date.now() / 1000);
      const input = `${b64json({ alg: 'ES256', typ: 'did-confirmation+jwt', kid: deviceId })}.${b64json({ did, aud: audience, iat, exp: iat + 60, jti: randomUUID() })}`;
      // WebCrypto ECDSA signatures are already the raw r||s form JWS wants (RFC 7518 §3.4).
      const signature = await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, new TextEncoder().encode(input));
      return `${input}.${Buffer.from(signature).toString('base64url')}`;
    },
  };
}
