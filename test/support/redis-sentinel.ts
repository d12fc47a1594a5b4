import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startRedisServer, type RedisServer, type RedisServerTls } from '../../scripts/lib/redis-server.js';

export interface SentinelSet {
  name: string;
  primary: RedisServer;
  replica: RedisServer;
  sentinel: { host: string; port: number };
  /** A plain connection to the Sentinel (SENTINEL … commands). */
  ask(): Redis;
  stop(): Promise<void>;
}

const READY_MS = 15_000;

/**
 * Passwords: `password` on the data nodes (requirepass + masterauth), `sentinelPassword` on the
 * Sentinel itself; `tls`: every node and the Sentinel speak TLS only, replication included.
 */
export interface SentinelOptions {
  password?: string;
  sentinelPassword?: string;
  tls?: RedisServerTls;
}

/**
 * One primary, one replica and one redis-sentinel, all throw-away and on free loopback ports, with
 * a small down-after and failover timeout so a killed primary is replaced in a second or two.
 */
export async function startSentinelSet(name = 'vaultline', options: SentinelOptions = {}): Promise<SentinelSet> {
  const { password, sentinelPassword, tls } = options;
  // masterauth too: after a failover the old primary replicates from the new one.
  const auth = [...(password ? ['--requirepass', password, '--masterauth', password] : []), ...(tls ? ['--tls-replication', 'yes'] : [])];
  const primary = await startRedisServer(auth, undefined, {}, password, tls);
  const replica = await startRedisServer(['--replicaof', '127.0.0.1', String(primary.port), ...auth], undefined, {}, password, tls);
  const dir = mkdtempSync(join(tmpdir(), 'vl-sentinel-'));
  const port = await freePort();
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      ...(tls
        ? ['port 0', `tls-port ${port}`, `tls-cert-file ${tls.certFile}`, `tls-key-file ${tls.keyFile}`, `tls-ca-cert-file ${tls.caFile}`, 'tls-auth-clients no', 'tls-replication yes']
        : [`port ${port}`]),
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${primary.port} 1`,
      `sentinel down-after-milliseconds ${name} 300`,
      `sentinel failover-timeout ${name} 2000`,
      `sentinel parallel-syncs ${name} 1`,
      ...(password ? [`sentinel auth-pass ${name} ${password}`] : []),
      ...(sentinelPassword ? [`requirepass ${sentinelPassword}`] : []),
      '',
    ].join('\n'),
  );
  const child = spawn('redis-sentinel', [conf], { stdio: 'ignore' });
  const clients: Redis[] = [];
  const ask = () => {
    const r = new Redis({ host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => 100, ...(sentinelPassword ? { password: sentinelPassword } : {}), ...(tls ? { tls: { ca: tls.ca } } : {}) });
    r.on('error', () => undefined);
    clients.push(r);
    return r;
  };
  const stop = async () => {
    clients.forEach((c) => c.disconnect());
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    }
    await Promise.all([primary.stop(), replica.stop()]);
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready = the replica is in sync and the Sentinel knows it (it can only promote a replica it knows).
  const probe = ask();
  const replicaProbe = new Redis(replica.url, { maxRetriesPerRequest: 1, ...(tls ? { tls: { ca: tls.ca } } : {}) });
  replicaProbe.on('error', () => undefined);
  try {
    const deadline = Date.now() + READY_MS;
    for (;;) {
      const known = await probe.call('SENTINEL', 'REPLICAS', name).catch(() => []);
      const synced = /master_link_status:up/.test(await replicaProbe.info('replication').catch(() => ''));
      if (Array.isArray(known) && known.length > 0 && synced) break;
      if (Date.now() > deadline) throw new Error(`the test Sentinel did not see its replica within ${READY_MS} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    replicaProbe.disconnect();
  }
  return { name, primary, replica, sentinel: { host: '127.0.0.1', port }, ask, stop };
}
