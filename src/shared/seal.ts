import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM sealing for the few secrets the store must give back (a DID to repeat, a call token
 * to hand to a polling client). Each purpose derives its own key from DATA_SECRET, and every sealed
 * value is bound to a context (the session id) so it cannot be moved to another record.
 */
export interface Sealer {
  seal(plain: string | Buffer, context: string): string;
  unseal(sealed: string, context: string): string;
  /** `unseal` for bytes that are not text (a compressed answer). */
  unsealBytes(sealed: string, context: string): Buffer;
}

export function createSealer(secret: Buffer, purpose: string): Sealer {
  const key = Buffer.from(hkdfSync('sha256', secret, 'vaultline', `${purpose}-seal-v1`, 32));
  function unsealBytes(sealed: string, context: string): Buffer {
    const buf = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(buf.subarray(12, 28));
    return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]);
  }
  return {
    seal(plain, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context));
      const ct = Buffer.concat([typeof plain === 'string' ? cipher.update(plain, 'utf8') : cipher.update(plain), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url');
    },
    unseal(sealed, context) {
      return unsealBytes(sealed, context).toString('utf8');
    },
    unsealBytes,
  };
}
