import { inject } from 'vitest';
import { createStore, type Store } from '../../src/store/client.js';

/** The two store implementations every store contract test runs against. */
export const STORE_KINDS = ['redis', 'embedded'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export async function openStore(kind: StoreKind): Promise<Store> {
  return kind === 'redis' ? createStore({ kind: 'redis', url: inject('redisUrl') }) : createStore({ kind: 'embedded' });
}
