import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * A throw-away redis-server from PATH on a free loopback port, no persistence: for the tests (their
 * global set-up, the cluster, the store-outage test) and for `npm run bench`. Never a server we did
 * not start, so never one somebody else's data lives on.
 */
export interface RedisServer {
  url: string;
  port: number;
  /** The server's process, for tests that freeze it (SIGSTOP/SIGCONT: a store that hangs rather than refuses). */
  pid: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

/** A server that speaks TLS only: its certificate files, and the CA the probe trusts (PEM). */
export interface RedisServerTls {
  certFile: string;
  keyFile: string;
  caFile: string;
  ca: string;
}

/**
 * Starts a throw-away redis-server from PATH on a free port (no persistence unless `extraArgs` turn
 * it on); `env` is added to its environment. With `password` (the server's requirepass) the URL
 * carries it and the probe uses it. With `tls` the port is a TLS port (no plain one), the URL is
 * `rediss://` and the probe trusts `tls.ca`.
 */
export async function startRedisServer(
  extraArgs: string[] = [],
  fixedPort?: number,
  env: Record<string, string> = {},
  password?: string,
  tls?: RedisServerTls,
): Promise<RedisServer> {
  if (!redisServerAvailable()) {
    throw new Error(
      'redis-server is needed on PATH (Debian: apt-get install redis-server); the tests can use REDIS_URL=redis://host:port instead.',
    );
  }
  const port = fixedPort ?? (await freePort());
  // A replica's full sync writes an RDB file into its directory even with persistence off: never ours.
  const dir = mkdtempSync(join(tmpdir(), 'vl-redis-'));
  const listen = tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  const child: ChildProcess = spawn(
    'redis-server',
    [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs],
    { stdio: 'ignore', env: { ...process.env, ...env } },
  );
  child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const url = `${tls ? 'rediss' : 'redis'}://${password === undefined ? '' : `:${encodeURIComponent(password)}@`}127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...(tls ? { tls: { ca: tls.ca } } : {}) });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      probe.disconnect();
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${port}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    port,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
