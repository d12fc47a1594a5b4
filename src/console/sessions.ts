import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Clock, Random } from '../shared/clock.js';
import type { RedisClient } from '../store/client.js';
import { ttl, type Keys } from '../store/keys.js';

/**
 * Compliance console sessions (DESIGN A11), kept in the store so every instance sees a sign-out at
 * once (a sealed cookie could not be revoked). The cookie carries a random 256-bit id; the store
 * holds only its SHA-256, so a copy of the store opens no session. Idle and absolute expiry are
 * measured with the injected clock (a test moves time instead of sleeping); the key's own PX, the
 * same idle time by the store's clock, only clears what nobody signs out.
 */
export interface ConsoleSession {
  /** Cookie value: 256 random bits, base64url. Leaves in the Set-Cookie header and nowhere else. */
  id: string;
  reviewer: string;
}

export interface ConsoleSessions {
  open(reviewer: string): Promise<ConsoleSession>;
  /** The live session of a cookie value, its idle time restarted; undefined when unknown, ended or expired. */
  touch(id: string): Promise<ConsoleSession | undefined>;
  /** Ends the session on every instance (sign-out). */
  end(id: string): Promise<void>;
  /** The CSRF token of a session: bound to its id, so it is never stored. */
  csrfToken(id: string): string;
  /** The CSRF token of a pre-session nonce (the sign-in form). */
  signInToken(nonce: string): string;
  /** Constant-time comparison of a token the browser sent with the one expected. */
  sameToken(sent: string | undefined, expected: string): boolean;
  newNonce(): string;
}

const record = z.object({ reviewer: z.string(), createdAt: z.number(), lastSeen: z.number() });

/** A cookie value we could have made: 43 base64url characters (32 bytes). */
const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function createConsoleSessions(deps: { redis: RedisClient; keys: Keys; clock: Clock; random: Random; dataSecret: Buffer }): ConsoleSessions {
  const { redis, keys, clock, random } = deps;
  // Its own key, derived: a CSRF token says nothing about any other secret made from DATA_SECRET.
  const csrfKey = createHmac('sha256', deps.dataSecret).update('console-csrf').digest();
  const keyOf = (id: string) => keys.consoleSession(createHash('sha256').update(id).digest('base64url'));
  const mac = (purpose: string, value: string) => createHmac('sha256', csrfKey).update(`${purpose}\n${value}`).digest('base64url');
  const newId = () => random.bytes(32).toString('base64url');

  return {
    async open(reviewer) {
      const id = newId();
      const now = clock.now();
      await redis.set(keyOf(id), JSON.stringify({ reviewer, createdAt: now, lastSeen: now }), 'PX', ttl.consoleIdleMs);
      return { id, reviewer };
    },

    async touch(id) {
      if (!ID_SHAPE.test(id)) return undefined;
      const key = keyOf(id);
      const raw = await redis.get(key);
      if (raw === null) return undefined;
      const parsed = record.safeParse(parseJson(raw));
      const now = clock.now();
      if (!parsed.success || now - parsed.data.lastSeen > ttl.consoleIdleMs || now - parsed.data.createdAt > ttl.consoleMaxMs) {
        await redis.del(key);
        return undefined;
      }
      // XX: a sign-out between the read and this write is not undone; the session is then gone for this request too.
      const kept = await redis.set(key, JSON.stringify({ ...parsed.data, lastSeen: now }), 'PX', ttl.consoleIdleMs, 'XX');
      return kept === 'OK' ? { id, reviewer: parsed.data.reviewer } : undefined;
    },

    async end(id) {
      if (ID_SHAPE.test(id)) await redis.del(keyOf(id));
    },

    csrfToken: (id) => mac('session', id),
    signInToken: (nonce) => mac('sign-in', nonce),
    sameToken(sent, expected) {
      if (sent === undefined) return false;
      const a = createHash('sha256').update(sent).digest();
      const b = createHash('sha256').update(expected).digest();
      return timingSafeEqual(a, b);
    },
    newNonce: newId,
  };
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
