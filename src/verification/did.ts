import { createHmac, hkdfSync } from 'node:crypto';
import { createSealer } from '../shared/seal.js';
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
  const sealer = createSealer(deps.secret, 'did');
  const space = 10 ** length;
  return {
    generate: () => String(random.int(0, space)).padStart(length, '0'),
    hash: (did) => createHmac('sha256', hashKey).update(did).digest('base64url'),
    seal: (did, sessionId) => sealer.seal(did, sessionId),
    unseal: (sealed, sessionId) => sealer.unseal(sealed, sessionId),
    normalize(input) {
      if (typeof input !== 'string') return null;
      return new RegExp(`^\\d{${length}}$`).test(input) ? input : null;
    },
  };
}
