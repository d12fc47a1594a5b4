import { inject } from 'vitest';
import { Cluster } from 'ioredis';
import { createStore, type Store } from '../../src/store/client.js';

/** The store implementations every store contract test runs against (DESIGN B5, B6). */
export const STORE_KINDS = ['redis', 'embedded', 'cluster'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export async function openStore(kind: StoreKind): Promise<Store> {
  if (kind === 'redis') return createStore({ kind: 'redis', url: inject('redisUrl') });
  if (kind === 'embedded') return createStore({ kind: 'embedded' });
  return createStore({ kind: 'cluster', nodes: inject('redisClusterNodes') });
}

/** KEYS across every master (a cluster answers KEYS per node). */
export async function allKeys(store: Store, pattern: string): Promise<string[]> {
  const { redis } = store;
  if (redis instanceof Cluster) {
    const perNode = await Promise.all(redis.nodes('master').map((n) => n.keys(pattern)));
    return perNode.flat();
  }
  return redis.keys(pattern);
}
