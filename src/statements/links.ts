import { createHash } from 'node:crypto';
import type { Random } from '../shared/clock.js';
import type { RedisClient } from '../store/client.js';
import { ttl, type Keys } from '../store/keys.js';
import { defineScript, reply } from '../store/lua.js';

/** DESIGN A8: ≥ 128 random bits; 24 bytes = 192 bits = 32 base64url characters, short enough for one SMS. */
const TOKEN_BYTES = 24;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{32}$/;

/** What a link is bound to (A8: customer, account, period and call). */
export interface StatementLinkBinding {
  customerId: string;
  accountId: string;
  /** `YYYY-MM`. */
  period: string;
  /** The statement store key of the document. */
  file: string;
  callId: string;
}

/** Why a spend failed, for the audit trail; the visitor sees one 410 for all of them. */
export type SpendOutcome =
  | { outcome: 'spent'; link: StatementLinkBinding }
  | { outcome: 'refused'; reason: 'spent' | 'expired'; callId: string }
  | { outcome: 'unknown' };

export interface StatementLinks {
  /** Stores the link under the token's hash only; the raw token leaves in the answer and nowhere else. */
  issue(binding: StatementLinkBinding): Promise<{ token: string; expiresAt: number }>;
  /** Withdraws a link that was never delivered (the SMS failed). */
  revoke(token: string): Promise<void>;
  /** For the GET page: never spends. */
  peek(token: string): Promise<'live' | 'gone'>;
  /** Atomic: the first spend of a live link wins; spent, expired and unknown all give null. */
  spend(token: string): Promise<StatementLinkBinding | null>;
  /** `spend` that also says why it failed (for the audit trail, never for the visitor). */
  trySpend(token: string): Promise<SpendOutcome>;
}

/** A token shape check that costs no store I/O: anything else cannot be one of ours. */
export function isLinkTokenShape(token: string): boolean {
  return TOKEN_SHAPE.test(token);
}

const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');

/*
 * A link's life is the store's clock (TIME inside the scripts), like a session's (DESIGN B2): every
 * instance agrees on it whatever its own clock says. The record outlives the link by a margin, so a
 * late visit is audited as `expired`, not `unknown`.
 */
const issueScript = defineScript({
  file: 'link-issue',
  keys: ['link'],
  args: ['customerId', 'accountId', 'period', 'file', 'callId', 'ttlMs', 'keptMs'],
  decode: (raw) => reply.number(raw),
});

const peekScript = defineScript({ file: 'link-peek', keys: ['link'], args: [], decode: (raw) => (reply.number(raw) === 1 ? ('live' as const) : ('gone' as const)) });

const spendScript = defineScript({
  file: 'link-spend',
  keys: ['link'],
  args: [],
  decode(raw): SpendOutcome {
    const [word, ...rest] = reply.array(raw, 'link-spend').map((v) => reply.string(v));
    const outcome = reply.oneOf(word, ['spent', 'refused', 'unknown'], 'link-spend');
    if (outcome === 'unknown') return { outcome };
    if (outcome === 'refused') return { outcome, reason: rest[0] === 'spent' ? 'spent' : 'expired', callId: rest[1] ?? '' };
    const [customerId = '', accountId = '', period = '', file = '', callId = ''] = rest;
    return { outcome, link: { customerId, accountId, period, file, callId } };
  },
});

export function createStatementLinks(deps: { redis: RedisClient; keys: Keys; random: Random; ttlSeconds: number }): StatementLinks {
  const { redis, keys, random, ttlSeconds } = deps;

  const trySpend = async (token: string): Promise<SpendOutcome> => {
    if (!isLinkTokenShape(token)) return { outcome: 'unknown' };
    return spendScript(redis, { link: keys.link(hashOf(token)) }, {});
  };

  return {
    async issue(binding) {
      const token = random.bytes(TOKEN_BYTES).toString('base64url');
      const { customerId, accountId, period, file, callId } = binding;
      const expiresAt = await issueScript(
        redis,
        { link: keys.link(hashOf(token)) },
        { customerId, accountId, period, file, callId, ttlMs: ttlSeconds * 1000, keptMs: ttl.linkKeptMs(ttlSeconds) },
      );
      return { token, expiresAt };
    },

    async revoke(token) {
      if (!isLinkTokenShape(token)) return;
      await redis.del(keys.link(hashOf(token)));
    },

    async peek(token) {
      if (!isLinkTokenShape(token)) return 'gone';
      return peekScript(redis, { link: keys.link(hashOf(token)) }, {});
    },

    async spend(token) {
      const r = await trySpend(token);
      return r.outcome === 'spent' ? r.link : null;
    },

    trySpend,
  };
}
