import { createHash } from 'node:crypto';

/**
 * Every store key, its prefix and its TTL (STYLE habit 9). Keys that belong to one call share the
 * hash tag `{c:<callTag>}` so multi-key Lua scripts over them also run on Redis Cluster; keys that
 * must be found without knowing the call (a DID, a device, a link) are single-key operations.
 */

/** A stable, non-reversible tag for a provider call id (call ids never appear in keys in clear). */
export function callTag(callId: string): string {
  return createHash('sha256').update(callId).digest('base64url').slice(0, 22);
}

/** The same for a customer id: the hash tag of everything the wrong-code limit keeps about one customer. */
export function customerTag(customerId: string): string {
  return createHash('sha256').update(`customer\n${customerId}`).digest('base64url').slice(0, 22);
}

export const ttl = {
  /** How long a session record stays readable after it was created (audit, polling, late confirmations). */
  sessionMs: (didTtlSeconds: number) => (didTtlSeconds + 3600) * 1000,
  /** Per-call records: state, current session. Longer than any phone call we keep alive. */
  callMs: 6 * 3600 * 1000,
  /**
   * A call's latest webhook answer, kept for a retry of that delivery. Twilio gives up on a webhook
   * within 15 s (its default, and the most its connection overrides allow), so two minutes is ample;
   * a live call holds one answer whatever its length (one slot per call, see ivr/turns.ts).
   */
  webhookAnswerMs: 2 * 60 * 1000,
  /** A webhook being answered right now; a crashed instance frees the claim after this. */
  webhookInFlightMs: 15 * 1000,
  /**
   * Used confirmation `jti`s (DESIGN A4): a confirmation lives at most 120 s and is accepted up to
   * 30 s past its `exp` (the JWS clock tolerance); an instance whose clock is 30 s behind the others
   * accepts it 30 s later still. Kept longer than all three together, measured by the store.
   */
  jtiMs: (120 + 30 + 30 + 30) * 1000,
  /** A confirmation between its reservation and its outcome; a crashed instance frees it after this. */
  codeInFlightMs: 15 * 1000,
  /** "This device confirmed this code": a later submit of it is a double submit, not a wrong code (≥ a DID's longest life). */
  codeConfirmedMs: (600 + 120 + 30) * 1000,
  /** A statement link's record: an hour past the link's life, so a late visit is audited `expired` rather than `unknown`. */
  linkKeptMs: (linkTtlSeconds: number) => (linkTtlSeconds + 3600) * 1000,
  /** A call marked recently verified by a late confirmation (DESIGN A4: 10 minutes), by the store's clock. */
  recentlyVerifiedMs: 10 * 60 * 1000,
  /** Idempotency-Key answers on /api/v1 (≥ 24 h). */
  idempotencyMs: 25 * 3600 * 1000,
  /** An Idempotency-Key whose first request is still running; a crashed instance frees it after this. */
  idempotencyInFlightMs: 60 * 1000,
  /** /readyz's write probe: outlives the probe's cache, never piles up. */
  writeProbeMs: 10 * 1000,
  /** A compliance console session with no request (DESIGN A11: 15 minutes idle). */
  consoleIdleMs: 15 * 60 * 1000,
  /** A console session however active: a reviewer signs in again after a working day. */
  consoleMaxMs: 10 * 3600 * 1000,
} as const;

export function createKeys(prefix: string) {
  const call = (callId: string) => `${prefix}c:{${callTag(callId)}}`;
  return {
    prefix,
    /** Hash: provider, status (active|ended), current session id, reissues, verified session, token jti. */
    call: (callId: string) => `${call(callId)}:call`,
    /** The call hash of a session's call, found from the session id's tag (no read of the session needed). */
    callOfSession: (sessionId: string) => `${prefix}c:{${sessionTagOf(sessionId)}}:call`,
    /** Hash: one verification session. The session id carries the call tag so this key is found from it. */
    session: (sessionId: string) => `${prefix}c:{${sessionTagOf(sessionId)}}:ses:${sessionId}`,
    /** Hash, PX: the call marked recently verified (A4 late confirmation): at, expiresAt, customer, session, sealed case id. */
    recentlyVerified: (callId: string) => `${call(callId)}:rv`,
    /** The same key found from a session id's tag (a script on the session's keys writes it). */
    recentlyVerifiedOfSession: (sessionId: string) => `${prefix}c:{${sessionTagOf(sessionId)}}:rv`,
    /** String: the IVR engine state of a call (JSON). */
    ivrState: (callId: string) => `${call(callId)}:ivr`,
    /** String: the call's latest webhook on a channel: its delivery digest, then its sealed answer. */
    turnSlot: (callId: string, channel: 'voice' | 'status') => `${call(callId)}:wh:${channel}`,
    /** String (integer): statement SMS sent in the call (A3: at most 3), IVR and /api/v1 together. */
    statementSmsCount: (callId: string) => `${call(callId)}:sms`,
    /**
     * List: one shard of the audit outbox (DESIGN B7), events waiting for the trail's database. A
     * fixed set of shards, each its own hash tag, so the drainer finds all of them on every Cluster node.
     */
    auditOutbox: (shard: number) => `${prefix}audit:ob:{ao${shard}}`,
    /** String, PX: the audit drainer's lease (one drainer at a time). */
    auditLease: () => `${prefix}audit:lease`,
    /** String → session id, PX = DID lifetime: claims a DID among live sessions (keyed hash, never the DID). */
    did: (didHash: string) => `${prefix}did:${didHash}`,
    /** Hash: an enrolled device. */
    device: (deviceId: string) => `${prefix}dev:${deviceId}`,
    /**
     * The wrong-code limit of one customer and their devices (DESIGN A4, B2): every key shares the
     * customer's hash tag, so one script reserves against the device and the customer on Cluster.
     */
    wrongCodes: (customerId: string) => {
      const base = `${prefix}w:{${customerTag(customerId)}}`;
      return {
        /** String counter, PX = the window: wrong codes of the customer on any device. */
        customer: `${base}:count`,
        /** String counter, PX = the window: wrong codes of one device. */
        device: (deviceId: string) => `${base}:dev:${deviceId}:count`,
        /** String, PX: a used confirmation jti of one of the customer's devices (hashed). */
        jti: (jtiHash: string) => `${base}:jti:${jtiHash}`,
        /** String, PX: a confirmation of this code by this device holds a reserved point right now. */
        inFlight: (deviceId: string, didHash: string) => `${base}:dev:${deviceId}:try:${didHash}`,
        /** String, PX: this device confirmed this code (keyed hash): submitting it again is a double submit. */
        confirmed: (deviceId: string, didHash: string) => `${base}:dev:${deviceId}:ok:${didHash}`,
      };
    },
    /** rate-limiter-flexible key prefixes (it appends its own key). */
    limiter: (name: string) => `${prefix}rl:${name}`,
    /** Hash: a statement link (token stored only as a hash). */
    link: (tokenHash: string) => `${prefix}link:${tokenHash}`,
    /** String: an /api/v1 Idempotency-Key record. */
    idempotency: (clientId: string, key: string) => `${prefix}idem:${clientId}:${createHash('sha256').update(key).digest('base64url')}`,
    /** Hash: the provider API's side of a session (client, locale, callback URL, terminal claim); the session's slot. */
    apiSession: (sessionId: string) => `${prefix}c:{${sessionTagOf(sessionId)}}:ses:${sessionId}:api`,
    /** Sorted set: API sessions with a callback URL, scored by expiry, swept to notify an expiry nobody polled. */
    apiCallbackDue: () => `${prefix}api:cbdue`,
    /** String (JSON), PX = idle expiry: a compliance console session, under the hash of its id (never the id). */
    consoleSession: (idHash: string) => `${prefix}console:s:${idHash}`,
    /** String, PX: /readyz's write probe (a replica refuses it: a ping alone would pass there). */
    writeProbe: () => `${prefix}readyz`,
    /** Set of API session ids by provider call (provider + call id). */
    sessionTagOf,
  };
}

/** Session ids are `ses_<callTag>_<random>` so their key lands in the call's slot. */
export function newSessionId(callId: string, randomPart: string): string {
  return `ses_${callTag(callId)}_${randomPart}`;
}

export function sessionTagOf(sessionId: string): string {
  const m = /^ses_([A-Za-z0-9_-]{22})_[A-Za-z0-9_-]+$/.exec(sessionId);
  // An id we did not make maps to a tag no call has, so lookups simply find nothing.
  return m?.[1] ?? 'invalid-session-id-tag';
}

export type Keys = ReturnType<typeof createKeys>;
