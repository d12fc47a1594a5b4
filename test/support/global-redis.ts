import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startRedisCluster, type RedisCluster } from './redis-cluster.js';
import { startRedisServer, type RedisServer } from '../../scripts/lib/redis-server.js';
import { startPostgresServer, type PostgresServer } from '../../scripts/lib/postgres-server.js';
import { pgliteSql } from '../../src/audit/trail/sql.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** A three-master Redis Cluster for the store contract suites. */
    redisClusterNodes: { host: string; port: number }[];
    /** An owner's connection to the run's PostgreSQL; each test app takes a fresh schema in it (test/support/audit-db.ts). */
    auditDatabaseUrl: string;
  }
}

let server: RedisServer | undefined;
let cluster: RedisCluster | undefined;
let postgres: PostgresServer | undefined;

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
  // PostgreSQL the same way: AUDIT_DATABASE_URL (an owner's) when set, else a throw-away server.
  let auditUrl = process.env.AUDIT_DATABASE_URL;
  if (!auditUrl) {
    postgres = await startPostgresServer();
    auditUrl = postgres.url;
  }
  project.provide('auditDatabaseUrl', auditUrl);
  // The embedded trail's first start runs PGlite's initdb and keeps the result for every later start
  // (src/audit/trail/sql.ts); done once here so no test's time budget pays for it.
  const embedded = pgliteSql();
  await embedded.query('SELECT 1');
  await embedded.close();
}

export async function teardown(): Promise<void> {
  await server?.stop();
  await cluster?.stop();
  await postgres?.destroy();
}
