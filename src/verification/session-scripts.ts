import { defineScript, reply } from '../store/lua.js';

/**
 * The atomic transitions of a verification session (DESIGN B2), in src/store/scripts/*.lua. Each
 * runs on keys of ONE call, which share a hash tag, so they also run on Redis Cluster; every key
 * comes in KEYS (a script that needs the call's current session is given the one its caller read,
 * and answers `moved` when that changed meanwhile). Time is the store's (TIME inside the scripts):
 * each reply carries the store's `now`, so nobody compares a stored time with an instance's clock.
 */

export type OpenWord = 'created' | 'existing' | 'ended' | 'conflict' | 'limit' | 'not_expired' | 'no_session' | 'moved';

export const openSession = defineScript({
  file: 'session-open',
  keys: ['call', 'session', 'current'],
  args: [
    'sessionId', 'provider', 'didHash', 'didSealed', 'didTtlMs', 'sessionTtlMs', 'callTtlMs', 'maxSessions', 'channel', 'mode',
    'maxReissues', 'callId', 'readCurrent', 'caseSealed',
  ],
  decode(raw) {
    const [word, sid, hash, now] = reply.array(raw, 'session-open');
    const outcome: OpenWord = reply.oneOf(word, ['created', 'existing', 'ended', 'conflict', 'limit', 'not_expired', 'no_session', 'moved'], 'session-open');
    return { outcome, sessionId: reply.string(sid), hash: reply.hash(hash), now: reply.number(now) };
  },
});

export const confirmSession = defineScript({
  file: 'session-confirm',
  keys: ['session', 'call', 'recentlyVerified'],
  args: ['didHash', 'customerId', 'deviceId', 'verifiedForMs', 'lateWindowMs', 'recentlyVerifiedMs'],
  decode(raw) {
    const [word, hash, now] = reply.array(raw, 'session-confirm');
    return { result: reply.string(word), hash: reply.hash(hash), now: reply.number(now) };
  },
});

export const cancelSession = defineScript({
  file: 'session-cancel',
  keys: ['session'],
  args: [],
  decode(raw) {
    const [status, didHash] = reply.array(raw, 'session-cancel');
    return { status: reply.string(status), didHash: reply.string(didHash) };
  },
});

export const touchSession = defineScript({
  file: 'session-touch',
  keys: ['session'],
  args: [],
  decode(raw) {
    const [hash, now] = reply.array(raw, 'session-touch');
    return { hash: reply.hash(hash), now: reply.number(now) };
  },
});

export const endCall = defineScript({
  file: 'call-end',
  keys: ['call', 'current'],
  args: ['callTtlMs', 'provider', 'readCurrent'],
  decode(raw) {
    const [first, sid, didHash] = reply.array(raw, 'call-end');
    if (reply.string(first) === 'moved') return { moved: true as const };
    return { moved: false as const, wasActive: reply.number(first) === 1, sessionId: reply.string(sid), didHash: reply.string(didHash) };
  },
});

export const releaseDid = defineScript({
  file: 'did-release',
  keys: ['did'],
  args: ['sessionId', 'keepMs'],
  decode: (raw) => reply.number(raw) === 1,
});

export const callVerification = defineScript({
  file: 'call-verification',
  keys: ['call'],
  args: [],
  decode(raw) {
    const [customerId, sessionId, tokenJti, ended] = reply.array(raw, 'call-verification');
    return { customerId: reply.string(customerId), sessionId: reply.string(sessionId), tokenJti: reply.string(tokenJti), ended: reply.number(ended) === 1 };
  },
});

export const storeCallToken = defineScript({
  file: 'call-token-store',
  keys: ['session', 'call'],
  args: ['tokenSealed', 'jti', 'sessionId'],
  decode: (raw) => reply.number(raw) === 1,
});

export const unverifyCall = defineScript({
  file: 'call-unverify',
  keys: ['call'],
  args: ['sessionId'],
  decode: (raw) => reply.number(raw) === 1,
});

export const markRecentlyVerified = defineScript({
  file: 'call-recently-verified-mark',
  keys: ['session', 'recentlyVerified'],
  args: ['recentlyVerifiedMs'],
  decode: (raw) => reply.number(raw) === 1,
});

export const readRecentlyVerified = defineScript({
  file: 'call-recently-verified',
  keys: ['recentlyVerified'],
  args: [],
  decode(raw) {
    const [at, expiresAt, customerId, sessionId, channel, caseSealed] = reply.array(raw, 'call-recently-verified');
    if (at === undefined) return null;
    return {
      at: reply.number(at),
      expiresAt: reply.number(expiresAt),
      customerId: reply.string(customerId),
      sessionId: reply.string(sessionId),
      channel: reply.string(channel),
      caseSealed: reply.string(caseSealed),
    };
  },
});
