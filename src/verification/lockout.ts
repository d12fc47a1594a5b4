import { createHash } from 'node:crypto';
import type { Random } from '../shared/clock.js';
import type { RedisClient } from '../store/client.js';
import { ttl, type Keys } from '../store/keys.js';
import { defineScript, reply } from '../store/lua.js';

/** DESIGN A4/B2: at most 10 wrong codes within 15 minutes, per device and per customer. */
export const WRONG_CODE_LIMIT = 10;
export const WRONG_CODE_WINDOW_SECONDS = 15 * 60;

export interface LockoutSubject {
  deviceId: string;
  customerId: string;
}

/** What a confirmation may do before its code is evaluated. */
export type Gate =
  | { kind: 'locked'; retryAfterSeconds: number }
  | { kind: 'replayed' }
  /** A code this device already confirmed: answered 422, never counted. */
  | { kind: 'double_submit' }
  /** Holds a point (`reserved`), or rides on this device's in-flight confirmation of the same code (`rider`). */
  | { kind: 'admitted'; ticket: Ticket };

/** A confirmation that passed the gate; settle it exactly once with the code's outcome. */
export interface Ticket {
  readonly role: 'reserved' | 'rider';
  /** This reservation brought the device or the customer to the limit (the alert, once). */
  readonly reachedLimit: boolean;
  readonly subject: LockoutSubject;
  readonly didHash: string;
  readonly token: string;
}

export type Settled = { kind: 'released' } | { kind: 'counted'; nowLocked: boolean } | { kind: 'locked'; retryAfterSeconds: number };

export interface Lockout {
  /** The lock (429), the jti (409) and a point against the limit, in one store script, before the code is looked at. */
  admit(input: LockoutSubject & { jti: string; didHash: string }): Promise<Gate>;
  /** The code's outcome: a success or a double submit gives the point back, a wrong code keeps it. */
  settle(ticket: Ticket, outcome: 'confirmed' | 'double_submit' | 'wrong'): Promise<Settled>;
}

const reserveScript = defineScript({
  file: 'confirmation-reserve',
  keys: ['deviceCount', 'customerCount', 'jti', 'inFlight', 'confirmed'],
  args: ['limit', 'windowMs', 'jtiMs', 'token', 'inFlightMs'],
  decode(raw) {
    const [word, n] = reply.array(raw, 'confirmation-reserve');
    const kind = reply.oneOf(word, ['locked', 'replayed', 'double_submit', 'rider', 'reserved'], 'confirmation-reserve');
    return { kind, n: reply.number(n) };
  },
});

const settleScript = defineScript({
  file: 'confirmation-settle',
  keys: ['deviceCount', 'customerCount', 'inFlight', 'confirmed'],
  args: ['outcome', 'role', 'limit', 'windowMs', 'token', 'confirmedMs'],
  decode(raw) {
    const [word, n] = reply.array(raw, 'confirmation-settle');
    return { kind: reply.oneOf(word, ['released', 'counted', 'locked'], 'confirmation-settle'), n: reply.number(n) };
  },
});

/**
 * Counters live under the device and the customer, never the session or the DID, so a reissued
 * code or a new session does not reset them; the window is fixed and kept by the store's TTLs, so
 * every instance sees the same one. All keys of one customer share a hash tag (Redis Cluster).
 */
export function createLockout(deps: { redis: RedisClient; keys: Keys; random: Random }): Lockout {
  const { redis, keys } = deps;
  const windowMs = WRONG_CODE_WINDOW_SECONDS * 1000;
  const toSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

  return {
    async admit({ deviceId, customerId, jti, didHash }) {
      const k = keys.wrongCodes(customerId);
      // JSON keeps the pair unambiguous; hashing keeps app-chosen text out of key names.
      const jtiHash = createHash('sha256').update(JSON.stringify([deviceId, jti])).digest('base64url');
      const token = deps.random.bytes(9).toString('base64url');
      const r = await reserveScript(
        redis,
        { deviceCount: k.device(deviceId), customerCount: k.customer, jti: k.jti(jtiHash), inFlight: k.inFlight(deviceId, didHash), confirmed: k.confirmed(deviceId, didHash) },
        { limit: WRONG_CODE_LIMIT, windowMs, jtiMs: ttl.jtiMs, token, inFlightMs: ttl.codeInFlightMs },
      );
      if (r.kind === 'locked') return { kind: 'locked', retryAfterSeconds: toSeconds(r.n) };
      if (r.kind === 'replayed' || r.kind === 'double_submit') return { kind: r.kind };
      return { kind: 'admitted', ticket: { role: r.kind, reachedLimit: r.kind === 'reserved' && r.n === 1, subject: { deviceId, customerId }, didHash, token } };
    },

    async settle(ticket, outcome) {
      const k = keys.wrongCodes(ticket.subject.customerId);
      const { deviceId } = ticket.subject;
      const r = await settleScript(
        redis,
        { deviceCount: k.device(deviceId), customerCount: k.customer, inFlight: k.inFlight(deviceId, ticket.didHash), confirmed: k.confirmed(deviceId, ticket.didHash) },
        { outcome, role: ticket.role, limit: WRONG_CODE_LIMIT, windowMs, token: ticket.token, confirmedMs: ttl.codeConfirmedMs },
      );
      if (r.kind === 'locked') return { kind: 'locked', retryAfterSeconds: toSeconds(r.n) };
      if (r.kind === 'released') return { kind: 'released' };
      return { kind: 'counted', nowLocked: ticket.reachedLimit || r.n === 1 };
    },
  };
}
