import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { isPortFree, startRedisServer, type RedisServer } from '../../scripts/lib/redis-server.js';

export interface RedisCluster {
  nodes: { host: string; port: number }[];
  stop(): Promise<void>;
}

/** Every step below is bounded: a test run must fail loudly, never hang before the first test. */
const CREATE_TIMEOUT_MS = 15_000;
const READY_TIMEOUT_MS = 15_000;
const ATTEMPTS = 2;

/** A cluster node also listens on port + 10000 (the cluster bus): both must be free and valid. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 25000);
    if (taken.has(port) || taken.has(port + 10000)) continue;
    if ((await isPortFree(port)) && (await isPortFree(port + 10000))) {
      taken.add(port).add(port + 10000);
      return port;
    }
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

/** `redis-cli --cluster create`, killed (not waited on forever) after CREATE_TIMEOUT_MS. */
function createCluster(addrs: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), CREATE_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`redis-cli --cluster create ${signal ? `killed (${signal}) after ${CREATE_TIMEOUT_MS} ms` : `exited ${code}`}: ${output.slice(-500)}`));
    });
  });
}

/** CLUSTER INFO on one node, over a plain connection with a command timeout. */
async function nodeState(port: number): Promise<string> {
  const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, commandTimeout: 1000, connectTimeout: 1000 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return String(await probe.cluster('INFO'));
  } catch {
    return '';
  } finally {
    probe.disconnect();
  }
}

async function startOnce(): Promise<RedisCluster> {
  const servers: RedisServer[] = [];
  const dirs: string[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const taken = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'vl-cluster-'));
      dirs.push(dir);
      servers.push(
        await startRedisServer(
          ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '2000', '--dir', dir],
          await clusterPort(taken),
        ),
      );
    }
    await createCluster(servers.map((s) => `127.0.0.1:${s.port}`));
    // Every node must agree that all slots are served before the cluster is handed out.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const states = await Promise.all(servers.map((s) => nodeState(s.port)));
      if (states.every((s) => s.includes('cluster_state:ok'))) break;
      if (Date.now() > deadline) throw new Error(`the test Redis Cluster did not become ready within ${READY_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { nodes: servers.map((s) => ({ host: '127.0.0.1', port: s.port })), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * A throw-away three-master Redis Cluster from the redis-server on PATH (DESIGN B6): proves that
 * every multi-key script only touches keys of one hash slot. One retry on fresh ports covers a port
 * taken between the check and the bind.
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      return await startOnce();
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`could not start the test Redis Cluster (${ATTEMPTS} attempts): ${lastError instanceof Error ? lastError.message : String(lastError)}`);
}
