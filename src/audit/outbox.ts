import { createHash } from 'node:crypto';
import type { RedisClient } from '../store/client.js';
import type { Keys } from '../store/keys.js';
import { defineScript, reply } from '../store/lua.js';
import type { AuditEvent } from './events.js';

/**
 * DESIGN B7: the outbox in the live store. An event is appended to one of a fixed set of shard
 * lists, each with its own hash tag, so on a Redis Cluster the drainer finds every one of them (it
 * reads the same 16 keys, wherever their slots live) and a call's events stay in one list, in order.
 *
 * Entries are `<sec> <usec> <event JSON without at>`: the time is the store's (Redis TIME inside the
 * append script), so a timeline's order does not depend on which instance wrote it (A9).
 */
export const OUTBOX_SHARDS = 16;

const appendScript = defineScript({
  file: 'audit-outbox-append',
  keys: ['shard'],
  args: ['event', 'perShardLimit', 'sec', 'usec'],
  decode(raw) {
    const [sec, usec] = reply.array(raw, 'audit-outbox-append');
    return reply.number(sec) * 1000 + Math.floor(reply.number(usec) / 1000);
  },
});

const leaseScript = defineScript({ file: 'audit-lease', keys: ['lease'], args: ['holder', 'ms'], decode: (raw) => reply.number(raw) === 1 });

const releaseScript = defineScript({ file: 'audit-lease-release', keys: ['lease'], args: ['holder'], decode: (raw) => reply.number(raw) === 1 });

export interface OutboxEntry {
  event: AuditEvent;
  shard: number;
}

export function shardOf(routingId: string): number {
  return createHash('sha256').update(routingId).digest().readUInt32BE(0) % OUTBOX_SHARDS;
}

export function createOutbox(deps: {
  redis: RedisClient;
  keys: Keys;
  perShardLimit: number;
  /**
   * Set for the embedded store only: its TIME is not one clock (its microseconds do not follow its
   * seconds), and one process is one clock anyway, so this process's clock is used instead.
   */
  localClock?: () => number;
}) {
  const { redis, keys, perShardLimit, localClock } = deps;
  const shardKeys = Array.from({ length: OUTBOX_SHARDS }, (_, i) => keys.auditOutbox(i));

  const parse = (raw: string): AuditEvent | undefined => {
    const a = raw.indexOf(' ');
    const b = raw.indexOf(' ', a + 1);
    if (a < 0 || b < 0) return undefined;
    const ms = Number(raw.slice(0, a)) * 1000 + Math.floor(Number(raw.slice(a + 1, b)) / 1000);
    const rest = JSON.parse(raw.slice(b + 1)) as Omit<AuditEvent, 'at'>;
    return { ...rest, at: new Date(ms).toISOString() } as AuditEvent;
  };

  return {
    shardKeys,
    /** Appends one event (without `at`); resolves with the store's time of it. */
    async append(routingId: string, eventWithoutAt: object): Promise<string> {
      const now = localClock?.();
      const ms = await appendScript(
        redis,
        { shard: shardKeys[shardOf(routingId)] as string },
        { event: JSON.stringify(eventWithoutAt), perShardLimit, sec: now === undefined ? '' : Math.floor(now / 1000), usec: now === undefined ? '' : (now % 1000) * 1000 },
      );
      return new Date(ms).toISOString();
    },
    /** Up to `max` entries of each shard, oldest first, with how many were read from each. */
    async peek(max: number): Promise<{ entries: OutboxEntry[]; taken: number[] }> {
      const lists = await Promise.all(shardKeys.map((k) => redis.lrange(k, 0, max - 1)));
      const entries: OutboxEntry[] = [];
      lists.forEach((list, shard) => {
        for (const raw of list) {
          const event = parse(raw);
          if (event) entries.push({ event, shard });
        }
      });
      return { entries, taken: lists.map((l) => l.length) };
    },
    /** Drops what `peek` read (appends only ever go to the tail, so the head is what was read). */
    async trim(taken: readonly number[]): Promise<void> {
      await Promise.all(taken.map((n, i) => (n > 0 ? redis.ltrim(shardKeys[i] as string, n, -1) : Promise.resolve('OK'))));
    },
    /** The events of one call still waiting (they are all in its shard). */
    async ofCall(callId: string): Promise<AuditEvent[]> {
      const list = await redis.lrange(shardKeys[shardOf(callId)] as string, 0, -1);
      const needle = `"callId":${JSON.stringify(callId)}`;
      return list.filter((raw) => raw.includes(needle)).map(parse).filter((e): e is AuditEvent => e !== undefined && (e as { callId?: string }).callId === callId);
    },
    /** Entries waiting in all shards, and the store time of the oldest (ms), for the lag metric. */
    async size(): Promise<{ count: number; oldestMs?: number }> {
      const [lens, heads] = await Promise.all([Promise.all(shardKeys.map((k) => redis.llen(k))), Promise.all(shardKeys.map((k) => redis.lindex(k, 0)))]);
      const oldest = heads
        .filter((h): h is string => typeof h === 'string')
        .map((h) => {
          const [sec, usec] = h.split(' ', 2);
          return Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
        })
        .reduce<number | undefined>((m, v) => (m === undefined || v < m ? v : m), undefined);
      return { count: lens.reduce((a, b) => a + b, 0), ...(oldest !== undefined ? { oldestMs: oldest } : {}) };
    },
    async lease(holder: string, ms: number): Promise<boolean> {
      return leaseScript(redis, { lease: keys.auditLease() }, { holder, ms });
    },
    async release(holder: string): Promise<void> {
      await releaseScript(redis, { lease: keys.auditLease() }, { holder });
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
