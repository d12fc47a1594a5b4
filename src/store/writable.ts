import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import type { RedisClient } from './client.js';

/** /readyz asks often (every load-balancer probe); one round of writes a second says as much. */
const WRITE_CHECK_CACHE_MS = 1000;
/** Hash tags tried to find a probe key in each master's slots (three masters need a handful). */
const MAX_TAGS = 4096;

export interface WriteCheck {
  /** Resolves when the store takes a write; a success is remembered for a second. Rejects otherwise. */
  check(): Promise<void>;
  /** Forgets the last good probe (a refused write, a lost connection). */
  forget(): void;
}

/**
 * The readiness write probe (DESIGN A12: ready only when the store takes a write). On one Redis or
 * through Sentinel one SET on the primary. On a Cluster one SET per master, each on a key whose
 * slot that master serves: a single key reaches one shard only, and a cluster with one master
 * stopped or refusing writes (a failover in progress, `min-replicas-to-write` unmet) loses every
 * call whose keys hash there, so it is not ready.
 */
export function createWriteCheck(redis: RedisClient, probeKey: string, probeTtlMs: number): WriteCheck {
  let writableUntil = 0;
  let probing: Promise<void> | undefined;
  const write = (key: string) => redis.set(key, '1', 'PX', probeTtlMs).then(() => undefined);
  const round = async () => {
    if (redis instanceof Cluster) await Promise.all(perMasterKeys(redis, probeKey).map(write));
    else await write(probeKey);
  };
  return {
    check: () => {
      if (Date.now() < writableUntil) return Promise.resolve();
      probing ??= round()
        .then(() => {
          writableUntil = Date.now() + WRITE_CHECK_CACHE_MS;
        })
        .finally(() => {
          probing = undefined;
        });
      return probing;
    },
    forget: () => {
      writableUntil = 0;
    },
  };
}

/**
 * One key per master of the client's slot table, `probeKey:{n}` with the first tag that hashes into
 * a slot it serves. Throws when the table is empty or leaves a slot unserved: such a cluster answers
 * CLUSTERDOWN for some keys, which is not ready either.
 */
export function perMasterKeys(cluster: Cluster, probeKey: string): string[] {
  const owners = new Set<string>();
  for (let slot = 0; slot < 16384; slot++) {
    const owner = cluster.slots[slot]?.[0];
    if (owner === undefined) throw new Error(`cluster slot ${slot} has no master`);
    owners.add(owner);
  }
  const keys = new Map<string, string>();
  for (let tag = 0; tag < MAX_TAGS && keys.size < owners.size; tag++) {
    const key = `${probeKey}:{${tag}}`;
    const owner = cluster.slots[calculateSlot(key)]?.[0];
    if (owner !== undefined && !keys.has(owner)) keys.set(owner, key);
  }
  if (keys.size < owners.size) throw new Error('no probe key found for every cluster master');
  return [...keys.values()];
}
