import type { Cluster, Redis } from 'ioredis';

/**
 * Moves one hash slot of a live Redis Cluster to another master, in the steps `redis-cli --cluster
 * reshard` takes (Redis Cluster specification, "Live reconfiguration"), so a test can run store
 * scripts between them:
 *
 * 1. `begin`: the target is IMPORTING the slot, the owner MIGRATING it. Keys still live on the
 *    owner, which serves them.
 * 2. `migrateKeys`: every key of the slot is sent with ONE `MIGRATE … KEYS`, so the keys of a call
 *    (one hash tag) move together. The owner now answers ASK for them; the client must follow it.
 * 3. `finish`: CLUSTER SETSLOT … NODE on the target, the owner and the rest: the owner answers MOVED.
 */
export interface SlotMove {
  readonly slot: number;
  readonly from: number;
  readonly to: number;
  migrateKeys(): Promise<number>;
  finish(): Promise<void>;
}

type SlotRange = [number, number, [string, number, string, ...unknown[]], ...unknown[]];

const masterByPort = (redis: Cluster, port: number): Redis => {
  const node = redis.nodes('master').find((n) => n.options.port === port);
  if (!node) throw new Error(`no master on port ${port}`);
  return node;
};

/** Which master owns a slot, by CLUSTER SLOTS as one master sees it. */
export async function ownerOf(redis: Cluster, slot: number): Promise<number> {
  const [any] = redis.nodes('master');
  if (!any) throw new Error('the cluster has no master');
  const ranges = (await any.call('CLUSTER', 'SLOTS')) as SlotRange[];
  const range = ranges.find(([lo, hi]) => slot >= lo && slot <= hi);
  if (!range) throw new Error(`slot ${slot} is served by no node`);
  return range[2][1];
}

export async function beginSlotMove(redis: Cluster, key: string): Promise<SlotMove> {
  const masters = redis.nodes('master');
  const [any] = masters;
  if (!any || masters.length < 2) throw new Error('a slot move needs two masters');
  const slot = Number(await any.call('CLUSTER', 'KEYSLOT', key));
  const from = await ownerOf(redis, slot);
  const target = masters.find((n) => n.options.port !== from);
  if (!target?.options.port) throw new Error('no other master to move the slot to');
  const to = target.options.port;
  const source = masterByPort(redis, from);
  const idOf = async (node: Redis) => String(await node.call('CLUSTER', 'MYID'));
  const [sourceId, targetId] = [await idOf(source), await idOf(target)];

  // Importing first, then migrating: the order the specification gives, so no request is refused meanwhile.
  await target.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', sourceId);
  await source.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', targetId);

  return {
    slot,
    from,
    to,
    async migrateKeys() {
      let moved = 0;
      for (;;) {
        const keys = (await source.call('CLUSTER', 'GETKEYSINSLOT', slot, 1000)) as string[];
        if (keys.length === 0) return moved;
        await source.call('MIGRATE', target.options.host ?? '127.0.0.1', to, '', 0, 5000, 'KEYS', ...keys);
        moved += keys.length;
      }
    },
    async finish() {
      // The target first, then the owner, then everyone else (the specification's order).
      const rest = masters.filter((n) => n !== source && n !== target);
      for (const node of [target, source, ...rest]) await node.call('CLUSTER', 'SETSLOT', slot, 'NODE', targetId);
    },
  };
}
