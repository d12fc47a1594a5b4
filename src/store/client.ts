import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import type { StoreConfig } from '../config/load.js';
import { defineAllScripts } from './lua.js';

/** The store client: a real Redis, a Redis Cluster, or the embedded in-process store (same API). */
export type RedisClient = Redis | Cluster;

/** DESIGN B3: fail fast, never queue commands on the request path while the store is away. */
const COMMAND_TIMEOUT_MS = 500;
/**
 * Commands issued in the same tick (concurrent webhooks, the overlapping writes of a confirmation)
 * leave in one socket write: socket writes were the largest line of the app's CPU profile.
 */
const AUTO_PIPELINING = true;

export interface Store {
  readonly redis: RedisClient;
  readonly kind: StoreConfig['kind'];
  /** Resolves when a command round-trips; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function createStore(config: StoreConfig): Promise<Store> {
  let redis: RedisClient;
  if (config.kind === 'embedded') {
    // ioredis-mock runs the same Lua scripts (via fengari) synchronously, so script atomicity holds.
    // A unique host keeps two embedded stores in one process apart. Loaded only here: it is a
    // devDependency (with a Lua interpreter) that a production install does not have.
    const { default: RedisMock } = await import('ioredis-mock');
    redis = new RedisMock({ host: `embedded-${randomUUID()}` }) as unknown as Redis;
  } else if (config.kind === 'redis') {
    redis = new Redis(config.url, {
      lazyConnect: true,
      enableAutoPipelining: AUTO_PIPELINING,
      enableOfflineQueue: false,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(times * 100, 2000),
    });
    await redis.connect();
  } else {
    redis = new Cluster(config.nodes, {
      lazyConnect: true,
      enableAutoPipelining: AUTO_PIPELINING,
      enableOfflineQueue: false,
      redisOptions: { commandTimeout: COMMAND_TIMEOUT_MS, connectTimeout: 2000, maxRetriesPerRequest: 0 },
      clusterRetryStrategy: (times) => Math.min(times * 100, 2000),
    });
    await redis.connect();
  }
  defineScripts(redis);
  defineAllScripts(redis);
  // A dropped connection must not crash the process; commands fail and callers fail closed.
  redis.on('error', () => undefined);
  return {
    redis,
    kind: config.kind,
    ping: async () => {
      await redis.ping();
    },
    close: async () => {
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

/** Every script made with `luaScript`, so a new client can define them all up front. */
const SCRIPTS = new Map<string, { numberOfKeys: number; lua: string }>();

/**
 * Defines every known script on a client before its first command. With auto-pipelining a script
 * defined lazily while a pipeline is pending is missing from it (ioredis then fails the whole
 * batch), so the store defines them all here; the lazy path below stays for scripts of modules
 * imported after the store was made.
 */
export function defineScripts(redis: RedisClient): void {
  const r = redis as unknown as Record<string, unknown>;
  for (const [name, s] of SCRIPTS) if (typeof r[name] !== 'function') redis.defineCommand(name, s);
}

/**
 * A Lua script bound to a name, defined on each client with `defineCommand`, which uses EVALSHA
 * and falls back to EVAL, on single Redis, Cluster and the embedded store alike.
 */
export function luaScript(name: string, numberOfKeys: number, lua: string) {
  SCRIPTS.set(name, { numberOfKeys, lua });
  return async (redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> => {
    const r = redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>;
    if (typeof r[name] !== 'function') redis.defineCommand(name, { numberOfKeys, lua });
    return (r[name] as (...a: (string | number)[]) => Promise<unknown>).call(redis, ...keys, ...args);
  };
}
