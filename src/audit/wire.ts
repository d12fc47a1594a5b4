import type { Config } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/client.js';
import type { Keys } from '../store/keys.js';
import { createAudit, type Audit } from './audit.js';
import type { Metrics } from './metrics.js';
import { pgliteSql, postgresSql, type Sql } from './trail/sql.js';

/**
 * The audit trail as the composition root builds it (DESIGN A11, B7): AUDIT_DATABASE_URL or, in
 * development and tests, the embedded PGlite; `close` is its part of the app's shutdown.
 */
export function wireAudit(
  config: Config,
  deps: { store: Store; keys: Keys; logger: Logger; clock: Clock; metrics: Metrics },
  overrides: { auditSql?: Sql; auditOutboxLimit?: number },
): { audit: Audit; close(): Promise<void> } {
  // Production requires AUDIT_DATABASE_URL (config); the embedded PGlite is for development and tests.
  const embedded = !overrides.auditSql && !config.audit.databaseUrl;
  const sql = overrides.auditSql ?? (config.audit.databaseUrl ? postgresSql(config.audit.databaseUrl) : pgliteSql());
  const audit = createAudit({
    redis: deps.store.redis,
    keys: deps.keys,
    logger: deps.logger,
    clock: deps.clock,
    metrics: deps.metrics,
    sql,
    dataSecret: config.dataSecret,
    // A database given by a test stands where AUDIT_DATABASE_URL's would.
    setting: embedded ? 'the embedded audit store' : 'AUDIT_DATABASE_URL',
    // Issue 13: /readyz is 503 until PostgreSQL has been reached once; the embedded store is in this process.
    readyBeforeReached: embedded,
    embeddedStore: deps.store.kind === 'embedded',
    ...(overrides.auditOutboxLimit !== undefined ? { outboxLimit: overrides.auditOutboxLimit } : {}),
  });
  audit.start();
  return {
    audit,
    async close() {
      // A last pass first: what is still in the outbox goes to the trail before the store is let go
      // (bounded: a database that does not answer must not hold the shutdown). The embedded trail
      // lives in this process's memory, so a last pass into it would keep nothing.
      if (!embedded) await Promise.race([audit.drainNow().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
      await audit.stop();
      // A database a test handed in is the test's to close.
      if (!overrides.auditSql) await sql.close();
    },
  };
}
