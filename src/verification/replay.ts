import { createHash } from 'node:crypto';
import type { RedisClient } from '../store/client.js';
import { ttl, type Keys } from '../store/keys.js';

export interface JtiGuard {
  /** Resolves `true` the first time this device uses this `jti`, `false` on every later use (A4: 409 `replayed`). */
  claim(deviceId: string, jti: string): Promise<boolean>;
}

/**
 * Used confirmation ids, remembered for longer than a confirmation can live (`ttl.jtiMs`), so a
 * replayed JWS is refused even while its signature and times still check out.
 */
export function createJtiGuard(deps: { redis: RedisClient; keys: Keys }): JtiGuard {
  const { redis, keys } = deps;
  return {
    async claim(deviceId, jti) {
      // JSON keeps the pair unambiguous; hashing keeps app-chosen text out of key names.
      const digest = createHash('sha256').update(JSON.stringify([deviceId, jti])).digest('base64url');
      const set = await redis.set(keys.jti(digest), '1', 'PX', ttl.jtiMs, 'NX');
      return set === 'OK';
    },
  };
}
