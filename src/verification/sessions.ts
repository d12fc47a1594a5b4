import type { Random } from '../shared/clock.js';
import type { RedisClient } from '../store/client.js';
import { newSessionId, ttl, type Keys } from '../store/keys.js';
import type { Sealer } from '../shared/seal.js';
import type { DidCodec } from './did.js';
import { caseContext } from './recently-verified.js';
import * as scripts from './session-scripts.js';

export type SessionStatus = 'pending' | 'confirmed' | 'expired' | 'canceled' | 'call_ended';
export const TERMINAL: ReadonlySet<SessionStatus> = new Set(['confirmed', 'expired', 'canceled', 'call_ended']);

export interface SessionView {
  sessionId: string;
  callId: string;
  provider: string;
  status: SessionStatus;
  /** Store time (ms), like every time below: the store's clock decides a session's life (DESIGN B2). */
  createdAt: number;
  expiresAt: number;
  /** What is left of a pending session's life by the store's clock when it was read; 0 once terminal. */
  remainingMs: number;
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
  /** A late confirmation accepted (LATE_CONFIRMATION_POLICY=recently-verified): the session stays call_ended, the call is marked. */
  | { kind: 'recently_verified'; session: SessionView }
  /** No live pending session has this DID: one answer for wrong, expired, used, canceled and ended. */
  | { kind: 'not_recognized'; reason: string; session?: SessionView };

/** How long a confirmed call stays verified for further actions (the call-bound token's lifetime, A7). */
export const VERIFIED_FOR_MS = 5 * 60 * 1000;
/** DESIGN A4: a late confirmation counts only when its call ended less than this before, by the store's clock. */
export const LATE_CONFIRMATION_WINDOW_MS = 120 * 1000;
/** Sessions one call may open in all (gate entries + reissues): bounds DID farming on one call. */
const MAX_SESSIONS_PER_CALL = 10;

export interface SessionsDeps {
  redis: RedisClient;
  keys: Keys;
  random: Random;
  did: DidCodec;
  /**
   * Seals what a session must give back: the call-bound token kept on a confirmed session (so a
   * polling client can fetch it) and the provider's case id (each under its own context).
   */
  tokenSealer: Sealer;
  didTtlSeconds: number;
  /**
   * LATE_CONFIRMATION_POLICY. With `recently-verified` the code of a session whose call ended stays
   * claimed until it expires, so a late confirmation can still find it (DESIGN A4); default `ignore`.
   */
  lateConfirmationPolicy?: 'ignore' | 'recently-verified';
}

export function createSessions(deps: SessionsDeps) {
  const { redis, keys, random, did } = deps;
  const sessionTtlMs = ttl.sessionMs(deps.didTtlSeconds);
  const lateWindowMs = deps.lateConfirmationPolicy === 'recently-verified' ? LATE_CONFIRMATION_WINDOW_MS : 0;

  type Stored = SessionView & { didSealed: string; didHash: string };

  /** A session hash as a script returns it, read at store time `now`. */
  function fromHash(h: Record<string, string | undefined>, now: number, callId?: string): Stored | null {
    if (!h.sid || !h.status) return null;
    const status = h.status as SessionStatus;
    const expiresAt = Number(h.expiresAt);
    return {
      sessionId: h.sid,
      callId: callId ?? h.callId ?? '',
      provider: h.provider ?? '',
      status,
      createdAt: Number(h.createdAt),
      expiresAt,
      remainingMs: status === 'pending' ? Math.max(0, expiresAt - now) : 0,
      channel: h.channel ?? '',
      didSealed: h.didSealed ?? '',
      didHash: h.didHash ?? '',
      ...(h.customerId ? { customerId: h.customerId } : {}),
      ...(h.deviceId ? { deviceId: h.deviceId } : {}),
      ...(h.confirmedAt ? { confirmedAt: Number(h.confirmedAt) } : {}),
    };
  }

  /** Lazily expires a due session and returns it as it is then, in one round trip. */
  async function touch(sessionId: string): Promise<Stored | null> {
    const r = await scripts.touchSession(redis, { session: keys.session(sessionId) }, {});
    return fromHash(r.hash, r.now);
  }

  /**
   * A spent or refused DID claim is let go without waiting: the session's status already refuses
   * the code, so releasing only makes the code reusable sooner. A failure leaves it to its TTL.
   */
  const releaseSoon = (didHash: string, sessionId: string, keepMs = 0) => {
    scripts.releaseDid(redis, { did: keys.did(didHash) }, { sessionId, keepMs }).catch(() => undefined);
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
    const { result, hash: raw, now } = await scripts.confirmSession(
      redis,
      { session: keys.session(sessionId), call: keys.callOfSession(sessionId), recentlyVerified: keys.recentlyVerifiedOfSession(sessionId) },
      { didHash: hash, customerId: who.customerId, deviceId: who.deviceId, verifiedForMs: VERIFIED_FOR_MS, lateWindowMs, recentlyVerifiedMs: ttl.recentlyVerifiedMs },
    );
    const s = fromHash(raw, now);
    // Spent either way: a used, expired or ended code must not match again. A confirmed one stays
    // taken while its device's double-submit marker lives (lockout.ts), so no other session gets it.
    // A late confirmation leaves the same marker (its device's resubmit is a double submit too).
    releaseSoon(hash, sessionId, s?.status === 'confirmed' || result === 'recently_verified' ? ttl.codeConfirmedMs : 0);
    if (!s) return { kind: 'not_recognized', reason: 'unknown' };
    if (result === 'recently_verified') return { kind: 'recently_verified', session: publicView(s) };
    if (result !== 'confirmed') return { kind: 'not_recognized', reason: result, session: publicView(s) };
    return { kind: 'confirmed', session: publicView(s) };
  }

  type OpenInput = { provider: string; callId: string; channel: string; caseId?: string };

  async function open(input: OpenInput, mode: 'open' | 'reissue', maxReissues = 1): Promise<OpenOutcome> {
    const sessionId = newSessionId(input.callId, random.bytes(12).toString('base64url'));
    const callKey = keys.call(input.callId);
    const [code, firstRead] = await Promise.all([claimDid(sessionId, input.callId), redis.hget(callKey, 'current')]);
    let current = firstRead;
    let r;
    // The script is told which current session was read; a concurrent open that moved it means read again.
    for (let attempt = 0; ; attempt++) {
      r = await scripts.openSession(
        redis,
        { call: callKey, session: keys.session(sessionId), current: current ? keys.session(current) : keys.session(sessionId) },
        {
          sessionId, provider: input.provider, didHash: code.hash, didSealed: did.seal(code.code, sessionId), didTtlMs: deps.didTtlSeconds * 1000,
          sessionTtlMs, callTtlMs: ttl.callMs, maxSessions: MAX_SESSIONS_PER_CALL, channel: input.channel, mode, maxReissues,
          callId: input.callId, readCurrent: current ?? '',
          caseSealed: input.caseId ? deps.tokenSealer.seal(input.caseId, caseContext(sessionId)) : '',
        },
      );
      if (r.outcome !== 'moved' || attempt >= 5) break;
      current = r.sessionId || null;
    }
    // A code claimed for a session that was not made is let go before we answer: it never existed.
    if (r.outcome !== 'created') await scripts.releaseDid(redis, { did: keys.did(code.hash) }, { sessionId, keepMs: 0 });
    if (r.outcome === 'created' || r.outcome === 'existing') {
      const s = fromHash(r.hash, r.now, input.callId);
      if (!s) {
        if (r.outcome === 'created') throw new Error('session vanished right after creation');
        return { kind: 'no_session' };
      }
      if (r.outcome === 'created') return { kind: 'created', session: publicView(s), did: code.code };
      return { kind: 'existing', session: publicView(s), did: did.unseal(s.didSealed, s.sessionId) };
    }
    // Still moving after several reads: as busy as a limit, and as safe.
    if (r.outcome === 'moved') return { kind: 'limit' };
    return { kind: r.outcome };
  }

  /**
   * Verified for this call right now, by the store's clock: a confirmed session whose verification
   * window is still open; also the jti of the call-bound token the call accepts (A7).
   */
  async function verification(callId: string): Promise<{ verified: { customerId: string; sessionId: string } | null; tokenJti: string | null; ended: boolean }> {
    const r = await scripts.callVerification(redis, { call: keys.call(callId) }, {});
    return { verified: r.customerId && r.sessionId ? { customerId: r.customerId, sessionId: r.sessionId } : null, tokenJti: r.tokenJti || null, ended: r.ended };
  }

  return {
    /** One pending session per call: opening again while one is pending returns it (same DID). */
    open: (input: OpenInput) => open(input, 'open'),

    /** For an expired session: a new session and DID for the same call, at most `maxReissues` times. */
    reissue: (input: OpenInput, maxReissues: number) => open(input, 'reissue', maxReissues),

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
      const { status, didHash } = await scripts.cancelSession(redis, { session: keys.session(sessionId) }, {});
      if (status === 'gone') return null;
      if (status === 'canceled' && didHash) await scripts.releaseDid(redis, { did: keys.did(didHash) }, { sessionId, keepMs: 0 });
      return status as SessionStatus;
    },

    /** The call is over: its pending session becomes call_ended, its verification ends. Idempotent. */
    async endCall(callId: string, provider: string): Promise<{ firstTime: boolean; endedSessionId?: string }> {
      const call = keys.call(callId);
      let current = await redis.hget(call, 'current');
      for (let attempt = 0; ; attempt++) {
        const r = await scripts.endCall(redis, { call, current: current ? keys.session(current) : call }, { callTtlMs: ttl.callMs, provider, readCurrent: current ?? '' });
        if (!r.moved) {
          // Kept for a late confirmation (until the code expires) when the policy accepts one.
          if (r.sessionId && r.didHash && lateWindowMs === 0) await scripts.releaseDid(redis, { did: keys.did(r.didHash) }, { sessionId: r.sessionId, keepMs: 0 });
          return { firstTime: r.wasActive, ...(r.sessionId ? { endedSessionId: r.sessionId } : {}) };
        }
        // A session opened between the read and the script: read again (each open bounds how often).
        if (attempt >= 10) throw new Error('the call kept opening sessions while it was being ended');
        current = await redis.hget(call, 'current');
      }
    },

    verification,

    /** The call's token was refused: its verification by that session ends, so the gate asks for a new code. */
    async unverify(callId: string, sessionId: string): Promise<void> {
      await scripts.unverifyCall(redis, { call: keys.call(callId) }, { sessionId });
    },

    /** Verified for this call right now (see `verification`). */
    async verifiedCustomer(callId: string): Promise<{ customerId: string; sessionId: string } | null> {
      return (await verification(callId)).verified;
    },

    /** Keeps the call-bound token of a confirmed session, sealed, set once; its jti becomes the one the call accepts. */
    async storeToken(sessionId: string, token: string, jti: string): Promise<void> {
      await scripts.storeCallToken(
        redis,
        { session: keys.session(sessionId), call: keys.callOfSession(sessionId) },
        { tokenSealed: deps.tokenSealer.seal(token, sessionId), jti, sessionId },
      );
    },

    /** The call-bound token of a confirmed session, or null (not confirmed, or none minted). */
    async tokenOf(sessionId: string): Promise<string | null> {
      const sealed = await redis.hget(keys.session(sessionId), 'tokenSealed');
      return sealed ? deps.tokenSealer.unseal(sealed, sessionId) : null;
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
