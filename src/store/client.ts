import { randomUUID } from 'node:crypto';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { StoreConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { errorReason, refusedPasswordSetting } from './auth-error.js';
import { ttl } from './keys.js';
import { defineAllScripts } from './lua.js';
import { createWriteCheck } from './writable.js';

/** The store client: a real Redis, a Redis Cluster, or the embedded in-process store (same API). */
export type RedisClient = Redis | Cluster;

/** DESIGN B3: fail fast, never queue commands on the request path while the store is away. */
const COMMAND_TIMEOUT_MS = 500;
/**
 * Commands issued in the same tick (concurrent webhooks, the overlapping writes of a confirmation)
 * leave in one socket write: socket writes were the largest line of the app's CPU profile. Not on
 * a Cluster (see openClient).
 */
const AUTO_PIPELINING = true;
/**
 * A reconnect is tried at most this far apart, so a store that comes back (a restart, a promoted
 * replica) serves calls again well within DESIGN A12's 5 s.
 */
const MAX_RECONNECT_DELAY_MS = 1000;

export interface Store {
  readonly redis: RedisClient;
  readonly kind: StoreConfig['kind'];
  /** Resolves when a command round-trips; rejects otherwise. */
  ping(): Promise<void>;
  /**
   * Resolves when the store takes a write (a primary, not a replica left read-only by a failover:
   * a ping would pass there; on a Cluster every master, see writable.ts); a success is remembered
   * for a second. Rejects otherwise.
   */
  writable(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** Reachability changes: one line when the store cannot be reached, one when it is back. */
  logger?: Pick<Logger, 'error' | 'warn' | 'info'>;
  /** The key `writable()` writes (from keys.ts); without one it writes a fixed key. */
  probeKey?: string;
}

/**
 * Connects in the background: a store that is away at start is an outage (callers get FAIL_MODE,
 * /readyz is 503), not a crash loop (DESIGN A2). Commands fail fast until it answers.
 */
export async function createStore(config: StoreConfig, options: StoreOptions = {}): Promise<Store> {
  const redis = await openClient(config);
  defineAllScripts(redis);
  const watch = watchReachability(redis, config, options.logger);
  const probeKey = options.probeKey ?? 'vl:readyz';
  if (config.kind !== 'embedded') await firstAttempt(redis);

  const writeCheck = createWriteCheck(redis, probeKey, ttl.writeProbeMs);
  // A refused write or a lost connection forgets the last good probe at once.
  redis.on('error', (err: Error) => {
    if (isReadOnlyError(err)) writeCheck.forget();
  });
  redis.on('close', () => writeCheck.forget());

  return {
    redis,
    kind: config.kind,
    ping: async () => {
      await redis.ping();
    },
    writable: writeCheck.check,
    close: async () => {
      watch.stop();
      // A store that is already away cannot take QUIT; do not wait for it to come back.
      if (redis.status !== 'ready') {
        redis.disconnect();
        return;
      }
      const quit = redis.quit().then(() => undefined, () => undefined);
      const timeout = new Promise<void>((r) => setTimeout(r, 1000).unref());
      await Promise.race([quit, timeout]);
      redis.disconnect();
    },
  };
}

/**
 * Waits for the first connection attempt to end either way, so a store that is up serves the first
 * request (commands are not queued), and one that is down costs start-up no more than a refusal.
 */
function firstAttempt(redis: RedisClient): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      redis.off('error', done);
      resolve();
    };
    const timer = setTimeout(done, 3000);
    redis.once('ready', done);
    redis.once('error', done);
  });
}

/** A READONLY reply: the node we write to is a replica now (a failover, or `REPLICAOF`). */
export function isReadOnlyError(err: unknown): boolean {
  return err instanceof Error && /\bREADONLY\b/.test(err.message);
}

const retry = (times: number) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS);

async function openClient(config: StoreConfig): Promise<RedisClient> {
  if (config.kind === 'embedded') {
    // ioredis-mock runs the same Lua scripts (via fengari) synchronously, so script atomicity holds.
    // A unique host keeps two embedded stores in one process apart. Loaded only here: it is a
    // devDependency (with a Lua interpreter) that a production install does not have.
    const { default: RedisMock } = await import('ioredis-mock');
    return new RedisMock({ host: `embedded-${randomUUID()}` }) as unknown as Redis;
  }
  const common: RedisOptions = {
    enableAutoPipelining: AUTO_PIPELINING,
    enableOfflineQueue: false,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: retry,
    // A demoted primary answers READONLY on a connection that still works: reconnecting is what
    // makes a Sentinel client ask again for the current primary. The command itself fails (1, not
    // 2: no resend), so the caller gets FAIL_MODE now instead of a retry past the turn's budget.
    reconnectOnError: (err) => (isReadOnlyError(err) ? 1 : false),
  };
  if (config.kind === 'redis') return new Redis(config.url, common);
  const tls = config.tls ? {} : undefined;
  if (config.kind === 'sentinel') {
    return new Redis({
      ...common,
      sentinels: config.sentinels,
      name: config.name,
      ...(config.password ? { password: config.password } : {}),
      ...(config.sentinelPassword ? { sentinelPassword: config.sentinelPassword } : {}),
      ...(tls ? { tls, enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
      // No failoverDetector (+switch-master): a dead primary closes the connection and a demoted one
      // answers READONLY, and either makes the client ask Sentinel again. The detector's own
      // disconnect, landing on a reconnect in progress, left the client stuck in tests.
      sentinelRetryStrategy: retry,
    });
  }
  const { enableAutoPipelining: _auto, enableOfflineQueue: _offline, retryStrategy: _retry, ...nodeOptions } = common;
  const clusterOptions: ClusterOptions = {
    // Not on a Cluster: ioredis batches by node, and a batch in which one command is redirected
    // (ASK or MOVED, while a slot is resharded) and another succeeded hands the redirect to the
    // caller instead of following it (redis/ioredis#2075), so calls would fail during a reshard.
    // test/sessions.contract.test.ts reshards a call's slot under concurrent writes.
    enableAutoPipelining: false,
    enableOfflineQueue: false,
    redisOptions: { ...nodeOptions, ...(config.password ? { password: config.password } : {}), ...(tls ? { tls } : {}) },
    clusterRetryStrategy: retry,
    // With TLS the certificate names the host we were given, not the IP a lookup returns (ElastiCache).
    ...(tls ? { dnsLookup: (address: string, done: (err: null, address: string) => void) => done(null, address) } : {}),
  };
  return new Cluster(config.nodes, clusterOptions);
}

/** The setting that named the store and the hosts it points at (never its password). */
function describe(config: StoreConfig): { setting: string; host: string } {
  const list = (nodes: { host: string; port: number }[]) => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  switch (config.kind) {
    case 'redis': {
      let host = 'an unparsable URL';
      try {
        const u = new URL(config.url);
        host = `${u.hostname}:${u.port || '6379'}`;
      } catch {
        // zod checked the scheme only; the host is what the operator needs, not the parse error.
      }
      return { setting: 'REDIS_URL', host };
    }
    case 'cluster':
      return { setting: 'REDIS_CLUSTER_NODES', host: list(config.nodes) };
    case 'sentinel':
      return { setting: 'REDIS_SENTINELS', host: `${list(config.sentinels)} (master ${config.name})` };
    case 'embedded':
      return { setting: 'embedded', host: 'in-process' };
  }
}

/**
 * One log line per change of reachability, never one per retry: an outage of minutes is two lines.
 * The error listener is attached before the first connection attempt, which is what keeps ioredis
 * from printing "[ioredis] Unhandled error event".
 */
function watchReachability(redis: RedisClient, config: StoreConfig, logger: StoreOptions['logger']): { stop(): void } {
  const { setting, host } = describe(config);
  let everReady = false;
  let down = false;
  let stopped = false;
  let passwordNamed = false;
  // A refused password is named by its setting, once per outage, even when a vaguer line came first
  // (a Sentinel client may report "all sentinels unreachable" before the node's WRONGPASS).
  const refused = (password: string, reason: string) => {
    if (passwordNamed || stopped) return;
    passwordNamed = down = true;
    logger?.error({ setting: password, store: setting, host, reason }, `store refused the password: ${password} (${setting} ${host}): ${reason}; ${everReady ? 'calls get FAIL_MODE' : 'starting anyway, /readyz is 503 and callers get FAIL_MODE'} until it is accepted`);
  };
  const lost = (reason: string) => {
    if (down || stopped) return;
    down = true;
    if (!everReady) {
      logger?.error({ setting, host, reason }, `store unreachable at start: ${setting} (${host}): ${reason}; starting anyway, /readyz is 503 and callers get FAIL_MODE until it answers`);
    } else {
      logger?.warn({ setting, host, reason }, `store connection lost: ${setting} (${host}): ${reason}`);
    }
  };
  redis.on('error', (err: Error) => {
    // A READONLY reply is a refused command on a live connection; /readyz reports it, not this line.
    if (isReadOnlyError(err)) return;
    const password = refusedPasswordSetting(config, err);
    if (password) refused(password, errorReason(err));
    else lost(errorReason(err));
  });
  redis.on('end', () => lost('connection closed'));
  redis.on('ready', () => {
    if (down && !stopped) logger?.info({ setting, host }, `store reachable: ${setting} (${host})`);
    everReady = true;
    down = false;
    passwordNamed = false;
  });
  return {
    stop: () => {
      stopped = true;
    },
  };
}
