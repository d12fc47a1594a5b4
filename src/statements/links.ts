import { createHash } from 'node:crypto';
import type { Clock, Random } from '../shared/clock.js';
import { luaScript, type RedisClient } from '../store/client.js';
import type { Keys } from '../store/keys.js';

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

/**
 * KEYS[1] link hash; ARGV[1] now (ms). live and unexpired → spent, once, and returns the binding;
 * otherwise returns {reason, callId} (or nothing for an unknown link). Expiry is compared with the
 * injected clock, not only left to the key's PX, so every instance and every test agree on it.
 */
const spendScript = luaScript(
  'vaultlineSpendLink',
  1,
  `
local v = redis.call('HMGET', KEYS[1], 'status', 'expiresAt', 'customerId', 'accountId', 'period', 'file', 'callId')
if not v[1] then return nil end
if v[1] ~= 'live' then return {'refused', v[1], v[7]} end
if tonumber(v[2]) <= tonumber(ARGV[1]) then return {'refused', 'expired', v[7]} end
redis.call('HSET', KEYS[1], 'status', 'spent', 'spentAt', ARGV[1])
return {'spent', v[3], v[4], v[5], v[6], v[7]}
`,
);

export function createStatementLinks(deps: { redis: RedisClient; keys: Keys; clock: Clock; random: Random; ttlSeconds: number }): StatementLinks {
  const { redis, keys, clock, random, ttlSeconds } = deps;

  const trySpend = async (token: string): Promise<SpendOutcome> => {
    if (!isLinkTokenShape(token)) return { outcome: 'unknown' };
    const r = (await spendScript(redis, [keys.link(hashOf(token))], [clock.now()])) as string[] | null;
    if (!r) return { outcome: 'unknown' };
    if (r[0] === 'spent') {
      const [, customerId, accountId, period, file, callId] = r as [string, string, string, string, string, string];
      return { outcome: 'spent', link: { customerId, accountId, period, file, callId } };
    }
    return { outcome: 'refused', reason: r[1] === 'spent' ? 'spent' : 'expired', callId: r[2] ?? '' };
  };

  return {
    async issue(binding) {
      const token = random.bytes(TOKEN_BYTES).toString('base64url');
      const expiresAt = clock.now() + ttlSeconds * 1000;
      const key = keys.link(hashOf(token));
      await redis
        .multi()
        .hset(key, { ...binding, status: 'live', expiresAt: String(expiresAt) })
        .pexpire(key, ttlSeconds * 1000)
        .exec();
      return { token, expiresAt };
    },

    async revoke(token) {
      if (!isLinkTokenShape(token)) return;
      await redis.del(keys.link(hashOf(token)));
    },

    async peek(token) {
      if (!isLinkTokenShape(token)) return 'gone';
      const [status, expiresAt] = await redis.hmget(keys.link(hashOf(token)), 'status', 'expiresAt');
      return status === 'live' && Number(expiresAt) > clock.now() ? 'live' : 'gone';
    },

    async spend(token) {
      const r = await trySpend(token);
      return r.outcome === 'spent' ? r.link : null;
    },

    trySpend,
  };
}
