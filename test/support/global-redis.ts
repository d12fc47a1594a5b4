import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startRedisCluster, type RedisCluster } from './redis-cluster.js';
import { startRedisServer, type RedisServer } from '../../scripts/lib/redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** A three-master Redis Cluster for the store contract suites. */
    redisClusterNodes: { host: string; port: number }[];
  }
}

let server: RedisServer | undefined;
let cluster: RedisCluster | undefined;

/** One Redis for the whole run: REDIS_URL when set, else a throw-away redis-server. Tests isolate by key prefix. */
export async function setup(project: TestProject): Promise<void> {
  let url = process.env.REDIS_URL;
  if (!url) {
    server = await startRedisServer();
    url = server.url;
  }
  project.provide('redisUrl', url);
  cluster = await startRedisCluster();
  project.provide('redisClusterNodes', cluster.nodes);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  await cluster?.stop();
}
