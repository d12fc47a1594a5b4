import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import type { StoreConfig } from '../config/load.js';

/** The store client: a real Redis, a Redis Cluster, or the embedded in-process store (same API). */
export type RedisClient = Redis | Cluster;

/** DESIGN B3: fail fast, never queue commands on the request path while the store is away. */
const COMMAND_TIMEOUT_MS = 500;

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
    // A unique host keeps two embedded stores in one process apart.
    redis = new RedisMock({ host: `embedded-${randomUUID()}` }) as unknown as Redis;
  } else if (config.kind === 'redis') {
    redis = new Redis(config.url, {
      lazyConnect: true,
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
      enableOfflineQueue: false,
      redisOptions: { commandTimeout: COMMAND_TIMEOUT_MS, connectTimeout: 2000, maxRetriesPerRequest: 0 },
      clusterRetryStrategy: (times) => Math.min(times * 100, 2000),
    });
    await redis.connect();
  }
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

/**
 * A Lua script bound to a name. Defined lazily on each client with `defineCommand`, which uses
 * EVALSHA and falls back to EVAL, on single Redis, Cluster and the embedded store alike.
 */
export function luaScript(name: string, numberOfKeys: number, lua: string) {
  return async (redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> => {
    const r = redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>;
    if (typeof r[name] !== 'function') redis.defineCommand(name, { numberOfKeys, lua });
    return (r[name] as (...a: (string | number)[]) => Promise<unknown>).call(redis, ...keys, ...args);
  };
}
