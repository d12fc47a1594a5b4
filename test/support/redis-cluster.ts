import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { isPortFree, startRedisServer, type RedisServer } from './redis-server.js';

export interface RedisCluster {
  nodes: { host: string; port: number }[];
  stop(): Promise<void>;
}

/**
 * A throw-away three-master Redis Cluster from the redis-server on PATH (DESIGN B6): proves that
 * every multi-key script only touches keys of one hash slot.
 */
/** A cluster node also listens on port + 10000 (the cluster bus): both must be free and valid. */
async function clusterPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 25000);
    if ((await isPortFree(port)) && (await isPortFree(port + 10000))) return port;
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

export async function startRedisCluster(): Promise<RedisCluster> {
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'vl-cluster-'));
      servers.push(
        await startRedisServer(['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '2000', '--dir', dir], await clusterPort()),
      );
    }
    const addrs = servers.map((s) => `127.0.0.1:${s.port}`);
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 20_000 });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stderr || created.stdout}`);
    const nodes = servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
    // Wait until every slot is served before handing the cluster out.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const probe = new Cluster(nodes, { lazyConnect: true, clusterRetryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        const info = await probe.cluster('INFO');
        probe.disconnect();
        if (String(info).includes('cluster_state:ok')) break;
      } catch {
        probe.disconnect();
      }
      if (Date.now() > deadline) throw new Error('the test Redis Cluster did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    return { nodes, stop: async () => void (await Promise.all(servers.map((s) => s.stop()))) };
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    throw err;
  }
}
