import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Random } from '../shared/clock.js';

/**
 * The Dynamic Identifier: `length` digits from a CSPRNG. It is looked up by a keyed hash (so a
 * store dump does not reveal live codes and 10^6 codes cannot be brute-forced offline) and kept
 * sealed (AES-256-GCM, bound to the session id) so "press 9" and the API can repeat the same code.
 * See docs/decisions/0003-sealed-did.md.
 */
export interface DidCodec {
  generate(): string;
  hash(did: string): string;
  seal(did: string, sessionId: string): string;
  unseal(sealed: string, sessionId: string): string;
  /** A string of exactly `length` digits, or null. */
  normalize(input: unknown): string | null;
}

export function createDidCodec(deps: { secret: Buffer; length: number; random: Random }): DidCodec {
  const { length, random } = deps;
  const hashKey = Buffer.from(hkdfSync('sha256', deps.secret, 'vaultline', 'did-hash-v1', 32));
  const sealKey = Buffer.from(hkdfSync('sha256', deps.secret, 'vaultline', 'did-seal-v1', 32));
  const space = 10 ** length;
  return {
    generate: () => String(random.int(0, space)).padStart(length, '0'),
    hash: (did) => createHmac('sha256', hashKey).update(did).digest('base64url'),
    seal(did, sessionId) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
      cipher.setAAD(Buffer.from(sessionId));
      const ct = Buffer.concat([cipher.update(did, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url');
    },
    unseal(sealed, sessionId) {
      const buf = Buffer.from(sealed, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', sealKey, buf.subarray(0, 12));
      decipher.setAAD(Buffer.from(sessionId));
      decipher.setAuthTag(buf.subarray(12, 28));
      return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString('utf8');
    },
    normalize(input) {
      if (typeof input !== 'string') return null;
      return new RegExp(`^\\d{${length}}$`).test(input) ? input : null;
    },
  };
}
