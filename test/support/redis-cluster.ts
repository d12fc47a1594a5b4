import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { isPortFree, startRedisServer, type RedisServer, type RedisServerTls } from '../../scripts/lib/redis-server.js';

export interface RedisCluster {
  nodes: { host: string; port: number }[];
  /** A plain connection to one node (its password and TLS included), for tests that break a node. */
  node(port: number): Redis;
  /** Kills one node (an outage of that shard). */
  kill(port: number): Promise<void>;
  stop(): Promise<void>;
}

/** A cluster whose nodes ask for a password (requirepass, and masterauth for replication) and/or speak TLS only. */
export interface ClusterOptions {
  password?: string;
  tls?: RedisServerTls;
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
function createCluster(addrs: string[], options: ClusterOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const tls = options.tls ? ['--tls', '--cacert', options.tls.caFile] : [];
    const child = spawn('redis-cli', [...tls, '--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // REDISCLI_AUTH: the password stays off the command line.
      env: { ...process.env, ...(options.password ? { REDISCLI_AUTH: options.password } : {}) },
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

function nodeClient(port: number, options: ClusterOptions, lazyConnect = true): Redis {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    commandTimeout: 1000,
    connectTimeout: 1000,
    ...(options.password ? { password: options.password } : {}),
    ...(options.tls ? { tls: { ca: options.tls.ca } } : {}),
  });
  client.on('error', () => undefined);
  return client;
}

/** CLUSTER INFO on one node, over a plain connection with a command timeout. */
async function nodeState(port: number, options: ClusterOptions): Promise<string> {
  const probe = nodeClient(port, options);
  try {
    await probe.connect();
    return String(await probe.cluster('INFO'));
  } catch {
    return '';
  } finally {
    probe.disconnect();
  }
}

async function startOnce(options: ClusterOptions): Promise<RedisCluster> {
  const servers: RedisServer[] = [];
  const dirs: string[] = [];
  const clients: Redis[] = [];
  const stop = async (): Promise<void> => {
    clients.forEach((c) => c.disconnect());
    await Promise.all(servers.map((s) => s.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const taken = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'vl-cluster-'));
      dirs.push(dir);
      const auth = options.password ? ['--requirepass', options.password, '--masterauth', options.password] : [];
      // TLS on the cluster bus and for replication too, as a managed TLS cluster has it.
      const tls = options.tls ? ['--tls-cluster', 'yes', '--tls-replication', 'yes'] : [];
      servers.push(
        await startRedisServer(
          ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '2000', '--dir', dir, ...auth, ...tls],
          await clusterPort(taken),
          {},
          options.password,
          options.tls,
        ),
      );
    }
    await createCluster(servers.map((s) => `127.0.0.1:${s.port}`), options);
    // Every node must agree that all slots are served before the cluster is handed out.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const states = await Promise.all(servers.map((s) => nodeState(s.port, options)));
      if (states.every((s) => s.includes('cluster_state:ok'))) break;
      if (Date.now() > deadline) throw new Error(`the test Redis Cluster did not become ready within ${READY_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const node = (port: number) => {
      const client = nodeClient(port, options, false);
      clients.push(client);
      return client;
    };
    const kill = async (port: number) => {
      await servers.find((s) => s.port === port)?.stop();
    };
    return { nodes: servers.map((s) => ({ host: '127.0.0.1', port: s.port })), node, kill, stop };
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
export async function startRedisCluster(options: ClusterOptions = {}): Promise<RedisCluster> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`could not start the test Redis Cluster (${ATTEMPTS} attempts): ${lastError instanceof Error ? lastError.message : String(lastError)}`);
}
