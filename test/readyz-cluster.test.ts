import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { eventually } from './support/eventually.js';
import { startRedisCluster, type RedisCluster } from './support/redis-cluster.js';

/**
 * Issue 12 item 3: /readyz's write probe reaches every Cluster master, not the one shard its key
 * hashes to. Destructive, so on a three-master cluster of its own.
 */
describe('/readyz on a Redis Cluster', { timeout: 90_000 }, () => {
  let cluster: RedisCluster;
  let t: TestApp;
  const readyz = async () => {
    const res = await request(t.app).get('/readyz');
    return { status: res.status, store: (res.body as { checks: Record<string, string> }).checks.store };
  };

  beforeAll(async () => {
    cluster = await startRedisCluster();
    t = await startTestApp({ env: { REDIS_CLUSTER_NODES: cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',') } });
    expect(t.config.store.kind).toBe('cluster');
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await cluster?.stop();
  });

  it('when any one of the three masters refuses writes, then /readyz is 503 naming the store, and 200 again once it takes them', async () => {
    await eventually(async () => expect(await readyz()).toEqual({ status: 200, store: 'ok' }), 10_000);
    for (const { port } of cluster.nodes) {
      const master = cluster.node(port);
      // No replica can acknowledge: this master answers NOREPLICAS to every write, reads still work.
      await master.config('SET', 'min-replicas-to-write', '1');
      await eventually(async () => expect(await readyz(), `master ${port} refusing writes`).toEqual({ status: 503, store: 'unavailable' }), 10_000);
      await master.config('SET', 'min-replicas-to-write', '0');
      await eventually(async () => expect(await readyz(), `master ${port} writable again`).toEqual({ status: 200, store: 'ok' }), 10_000);
    }
  });

  it('when one master is stopped, then /readyz is 503', async () => {
    await eventually(async () => expect((await readyz()).status).toBe(200), 10_000);
    await cluster.kill(cluster.nodes[1]?.port ?? 0);
    await eventually(async () => expect(await readyz()).toEqual({ status: 503, store: 'unavailable' }), 10_000);
  });
});
