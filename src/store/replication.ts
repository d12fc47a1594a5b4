import { Cluster } from 'ioredis';
import { StoreUnavailableError } from '../shared/errors.js';
import type { Store } from './client.js';

/**
 * Waits until a replica holds a write (`WAIT 1 <ms>`), for the few writes an asynchronous failover
 * must not undo: a device enrolled, a device revoked (a revoked key that came back with a promoted
 * replica would sign confirmations again).
 *
 * Replicas "exist" when the store goes through Sentinel (which only makes sense with replicas), or
 * once a primary has reported a connected replica (INFO, looked at every few seconds until it does).
 * From then on a write no replica acknowledged in time is refused with StoreUnavailableError (503
 * store_unavailable): the caller retries, rather than trusting a write one failover could lose.
 * Redis Cluster: WAIT runs on the connection to the key's own primary (a pipeline routed by the key).
 */
export type ReplicaAck = (key: string) => Promise<void>;

/** Below the store's 500 ms command timeout, which would otherwise cut the WAIT itself. */
const WAIT_MS = 300;
const LOOK_AGAIN_MS = 5000;

export function createReplicaAck(store: Store): ReplicaAck {
  if (store.kind === 'embedded') return () => Promise.resolve();
  const { redis } = store;
  let expected = store.kind === 'sentinel';
  let lookedAt = 0;

  const connectedReplicas = async (): Promise<number> => {
    const primaries = redis instanceof Cluster ? redis.nodes('master') : [redis];
    const infos = await Promise.all(primaries.map((p) => p.info('replication')));
    return Math.max(0, ...infos.map((info) => Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0)));
  };

  return async (key) => {
    if (!expected && Date.now() - lookedAt > LOOK_AGAIN_MS) {
      lookedAt = Date.now();
      expected = (await connectedReplicas()) > 0;
    }
    if (!expected) return;
    // WAIT covers every earlier write of this connection; the EXISTS routes it to the key's node.
    const results = await redis.pipeline().exists(key).wait(1, WAIT_MS).exec();
    const [err, acked] = results?.[1] ?? [new Error('WAIT did not answer'), 0];
    if (err) throw err;
    if (Number(acked) < 1) throw new StoreUnavailableError(`no replica acknowledged the write within ${WAIT_MS} ms`);
  };
}
