import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { postgresSql, type Sql } from '../../src/audit/trail/sql.js';
import { ident, migrate } from '../../src/audit/trail/schema.js';

/**
 * The audit trail's database for a test: a fresh schema on the run's PostgreSQL (AUDIT_DATABASE_URL,
 * or the throw-away server of the global set-up), so tests share one server and never see each
 * other's events. The connection's search_path is the schema, so the app's SQL runs unchanged.
 */
export async function freshAuditSchema(ownerUrl: string = inject('auditDatabaseUrl')): Promise<{ url: string; schema: string }> {
  const schema = `t_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const owner = new pg.Client({ connectionString: ownerUrl });
  await owner.connect();
  try {
    await owner.query(`CREATE SCHEMA ${ident(schema)}`);
  } finally {
    await owner.end();
  }
  return { url: withSearchPath(ownerUrl, schema), schema };
}

export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

/** A migrated trail database of its own for one test app. */
export async function freshAuditSql(): Promise<Sql> {
  const { url } = await freshAuditSchema();
  const sql = postgresSql(url, { max: 3 });
  await migrate(sql);
  return sql;
}

/** DATA_SECRET of audits the tests build by hand. */
export const TEST_DATA_SECRET = 'test-data-secret-0123456789-abcdefghij';
