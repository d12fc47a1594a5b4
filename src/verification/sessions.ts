import type { Clock, Random } from '../shared/clock.js';
import type { RedisClient } from '../store/client.js';
import { callTag, newSessionId, ttl, type Keys } from '../store/keys.js';
import type { Sealer } from '../shared/seal.js';
import type { DidCodec } from './did.js';
import * as scripts from './session-scripts.js';

export type SessionStatus = 'pending' | 'confirmed' | 'expired' | 'canceled' | 'call_ended';
export const TERMINAL: ReadonlySet<SessionStatus> = new Set(['confirmed', 'expired', 'canceled', 'call_ended']);

export interface SessionView {
  sessionId: string;
  callId: string;
  provider: string;
  status: SessionStatus;
  createdAt: number;
  expiresAt: number;
  customerId?: string;
  deviceId?: string;
  confirmedAt?: number;
  channel: string;
}

export type OpenOutcome =
  | { kind: 'created' | 'existing'; session: SessionView; did: string }
  | { kind: 'ended' | 'conflict' | 'limit' | 'not_expired' | 'no_session' };

/** A DID's keyed hash and the live session (and its call) holding it, if any. */
export interface DidHolder {
  hash: string;
  sessionId: string | null;
  callId: string | null;
}

export type ConfirmOutcome =
  | { kind: 'confirmed'; session: SessionView }
  /** No live pending session has this DID: one answer for wrong, expired, used, canceled and ended. */
  | { kind: 'not_recognized'; reason: string; session?: SessionView };

/** How long a confirmed call stays verified for further actions (the call-bound token's lifetime, A7). */
export const VERIFIED_FOR_MS = 5 * 60 * 1000;
/** Sessions one call may open in all (gate entries + reissues): bounds DID farming on one call. */
const MAX_SESSIONS_PER_CALL = 10;

export interface SessionsDeps {
  redis: RedisClient;
  keys: Keys;
  clock: Clock;
  random: Random;
  did: DidCodec;
  /** Seals the call-bound token kept on a confirmed session (so a polling client can fetch it). */
  tokenSealer: Sealer;
  didTtlSeconds: number;
}

export function createSessions(deps: SessionsDeps) {
  const { redis, keys, clock, random, did } = deps;
  const sesBase = (callId: string) => `${keys.prefix}c:{${callTag(callId)}}:ses:`;
  const sessionTtlMs = ttl.sessionMs(deps.didTtlSeconds);

  type Stored = SessionView & { didSealed: string; didHash: string };

  /** A session hash as HGETALL gives it (an object) or as a script returns it (a flat array). */
  function fromHash(raw: Record<string, string> | readonly string[], callId?: string): Stored | null {
    let h: Record<string, string | undefined>;
    if (Array.isArray(raw)) {
      h = {};
      for (let i = 0; i + 1 < raw.length; i += 2) h[raw[i] as string] = raw[i + 1];
    } else h = raw as Record<string, string>;
    if (!h.sid || !h.status) return null;
    return {
      sessionId: h.sid,
      callId: callId ?? h.callId ?? '',
      provider: h.provider ?? '',
      status: h.status as SessionStatus,
      createdAt: Number(h.createdAt),
      expiresAt: Number(h.expiresAt),
      channel: h.channel ?? '',
      didSealed: h.didSealed ?? '',
      didHash: h.didHash ?? '',
      ...(h.customerId ? { customerId: h.customerId } : {}),
      ...(h.deviceId ? { deviceId: h.deviceId } : {}),
      ...(h.confirmedAt ? { confirmedAt: Number(h.confirmedAt) } : {}),
    };
  }

  async function read(sessionId: string): Promise<Stored | null> {
    return fromHash(await redis.hgetall(keys.session(sessionId)));
  }

  /** Lazily expires a due session and returns it as it is then, in one round trip. */
  async function touch(sessionId: string): Promise<Stored | null> {
    return fromHash((await scripts.touchSession(redis, [keys.session(sessionId)], [clock.now()])) as string[]);
  }

  /**
   * A spent or refused DID claim is let go without waiting: the session's status already refuses
   * the code, so releasing only makes the code reusable sooner. A failure leaves it to its TTL.
   */
  const releaseSoon = (didHash: string, sessionId: string) => {
    scripts.releaseDid(redis, [keys.did(didHash)], [sessionId]).catch(() => undefined);
  };

  const publicView = (s: SessionView & { didSealed?: string; didHash?: string }): SessionView => {
    const { didSealed: _s, didHash: _h, ...view } = s;
    return view;
  };

  /** Claims a fresh DID unique among live sessions (SET NX PX on its keyed hash). */
  async function claimDid(sessionId: string, callId: string): Promise<{ code: string; hash: string }> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const code = did.generate();
      const hash = did.hash(code);
      // The holder's call id rides along so a confirmation can mint the call's token while it confirms.
      const ok = await redis.set(keys.did(hash), `${sessionId}\n${callId}`, 'PX', deps.didTtlSeconds * 1000, 'NX');
      if (ok === 'OK') return { code, hash };
    }
    throw new Error('could not claim a unique DID: the code space is crowded (raise DID_LENGTH)');
  }

  async function findDid(code: string): Promise<DidHolder> {
    const hash = did.hash(code);
    const value = await redis.get(keys.did(hash));
    if (!value) return { hash, sessionId: null, callId: null };
    const sep = value.indexOf('\n');
    // A claim written before the call id rode along holds the session id alone.
    if (sep < 0) return { hash, sessionId: value, callId: null };
    return { hash, sessionId: value.slice(0, sep), callId: value.slice(sep + 1) };
  }

  async function confirmHolder(found: DidHolder, who: { customerId: string; deviceId: string }): Promise<ConfirmOutcome> {
    const { hash, sessionId } = found;
    if (!sessionId) return { kind: 'not_recognized', reason: 'unknown' };
    const [result, raw] = (await scripts.confirmSession(redis, [keys.session(sessionId), keys.callOfSession(sessionId)], [
      clock.now(), hash, who.customerId, who.deviceId, VERIFIED_FOR_MS,
    ])) as [string, string[]];
    // Spent either way: a used, expired or ended code must not match again.
    releaseSoon(hash, sessionId);
    const s = fromHash(raw);
    if (!s) return { kind: 'not_recognized', reason: 'unknown' };
    if (result !== 'confirmed') return { kind: 'not_recognized', reason: result, session: publicView(s) };
    return { kind: 'confirmed', session: publicView(s) };
  }

  async function open(input: { provider: string; callId: string; channel: string }, mode: 'open' | 'reissue', maxReissues = 1): Promise<OpenOutcome> {
    const now = clock.now();
    const sessionId = newSessionId(input.callId, random.bytes(12).toString('base64url'));
    const code = await claimDid(sessionId, input.callId);
    const expiresAt = now + deps.didTtlSeconds * 1000;
    const [outcome, , hash] = (await scripts.openSession(redis, [keys.call(input.callId)], [
      now, sesBase(input.callId), sessionId, input.provider, code.hash, did.seal(code.code, sessionId), expiresAt,
      sessionTtlMs, ttl.callMs, MAX_SESSIONS_PER_CALL, input.channel, mode, maxReissues, input.callId,
    ])) as [string, string, string[] | undefined];
    // A code claimed for a session that was not made is let go before we answer: it never existed.
    if (outcome !== 'created') await scripts.releaseDid(redis, [keys.did(code.hash)], [sessionId]);
    if (outcome === 'created') {
      const s = fromHash(hash ?? [], input.callId);
      if (!s) throw new Error('session vanished right after creation');
      return { kind: 'created', session: publicView(s), did: code.code };
    }
    if (outcome === 'existing') {
      const s = fromHash(hash ?? [], input.callId);
      if (!s) return { kind: 'no_session' };
      return { kind: 'existing', session: publicView(s), did: did.unseal(s.didSealed, s.sessionId) };
    }
    return { kind: outcome as 'ended' | 'conflict' | 'limit' | 'not_expired' | 'no_session' };
  }

  return {
    /** One pending session per call: opening again while one is pending returns it (same DID). */
    open: (input: { provider: string; callId: string; channel: string }) => open(input, 'open'),

    /** For an expired session: a new session and DID for the same call, at most `maxReissues` times. */
    reissue: (input: { provider: string; callId: string; channel: string }, maxReissues: number) => open(input, 'reissue', maxReissues),

    /** The session as it is now (a pending session past its time is expired first). */
    async get(sessionId: string): Promise<SessionView | null> {
      const s = await touch(sessionId);
      return s ? publicView(s) : null;
    },

    /** The call's current session id, if any. */
    async currentOf(callId: string): Promise<string | null> {
      return (await redis.hget(keys.call(callId), 'current')) ?? null;
    },

    /** The current session's DID again (press 9), only while it is pending. */
    async repeatDid(sessionId: string): Promise<string | null> {
      const s = await touch(sessionId);
      return s?.status === 'pending' ? did.unseal(s.didSealed, s.sessionId) : null;
    },

    /** Which live session holds this DID (one read of its keyed hash); confirm it with `confirmHolder`. */
    findDid,

    /** A DID's keyed hash (never the DID itself) for keys that name a code. */
    hashOf: (code: string) => did.hash(code),

    /**
     * Confirms the session found holding a DID, if it is still pending and the DID still its own;
     * exactly one concurrent caller wins (the script is the claim, so the winner alone goes on to
     * redirect the live call).
     */
    confirmHolder,

    /** `findDid` then `confirmHolder`. */
    async confirmByDid(code: string, who: { customerId: string; deviceId: string }): Promise<ConfirmOutcome> {
      return confirmHolder(await findDid(code), who);
    },

    /** Pending → canceled; a terminal session stays as it is. Returns the status after. */
    async cancel(sessionId: string): Promise<SessionStatus | null> {
      const s = await read(sessionId);
      const st = (await scripts.cancelSession(redis, [keys.session(sessionId)], [clock.now()])) as string;
      if (st === 'gone') return null;
      if (st === 'canceled' && s) await scripts.releaseDid(redis, [keys.did(s.didHash)], [sessionId]);
      return st as SessionStatus;
    },

    /** The call is over: its pending session becomes call_ended, its verification ends. Idempotent. */
    async endCall(callId: string, provider: string): Promise<{ firstTime: boolean; endedSessionId?: string }> {
      const [wasActive, sid, didHash] = (await scripts.endCall(redis, [keys.call(callId)], [
        clock.now(), sesBase(callId), ttl.callMs, provider,
      ])) as [number, string, string];
      if (sid && didHash) await scripts.releaseDid(redis, [keys.did(didHash)], [sid]);
      return { firstTime: wasActive === 1, ...(sid ? { endedSessionId: sid } : {}) };
    },

    async isCallEnded(callId: string): Promise<boolean> {
      return (await redis.hget(keys.call(callId), 'status')) === 'ended';
    },

    /** Verified for this call right now: a confirmed session whose verification window is still open. */
    async verifiedCustomer(callId: string): Promise<{ customerId: string; sessionId: string } | null> {
      const [status, until, customerId, sessionId] = await redis.hmget(keys.call(callId), 'status', 'verifiedUntil', 'verifiedCustomer', 'verifiedSession');
      if (status === 'ended' || !until || !customerId || !sessionId) return null;
      return Number(until) > clock.now() ? { customerId, sessionId } : null;
    },

    /** Keeps the call-bound token of a confirmed session, sealed; set once. */
    async storeToken(sessionId: string, token: string): Promise<void> {
      await redis.hsetnx(keys.session(sessionId), 'tokenSealed', deps.tokenSealer.seal(token, sessionId));
    },

    /** The call-bound token of a confirmed session, or null (not confirmed, or none minted). */
    async tokenOf(sessionId: string): Promise<string | null> {
      const sealed = await redis.hget(keys.session(sessionId), 'tokenSealed');
      return sealed ? deps.tokenSealer.unseal(sealed, sessionId) : null;
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
