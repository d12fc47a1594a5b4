import type { Sql } from './sql.js';

/**
 * The trail's tables (DESIGN A11, B6): one table partitioned by UTC day, so retention drops whole
 * partitions and never deletes a row. Created by an owner (`npm run audit -- migrate`, or the app
 * itself on the embedded store and on a database where its role may); the app's own role is then
 * given only INSERT and SELECT (see `grantsFor`), and a partition for a new day is made through
 * `audit_ensure_partition`, a SECURITY DEFINER function owned by the owner, so the app never owns
 * a table it could UPDATE, DELETE or DROP.
 *
 * `(day, id)` is the key: a partitioned table's unique keys must hold the partition key, and an
 * event's day is fixed by its `at`, so `ON CONFLICT (day, id)` is the idempotent insert by event id.
 */
export function schemaSql(schema: string): string {
  const s = ident(schema);
  return `
CREATE TABLE IF NOT EXISTS ${s}.audit_events (
  day date NOT NULL,
  seq integer NOT NULL,
  id uuid NOT NULL,
  at timestamptz NOT NULL,
  type text NOT NULL,
  call_id text,
  customer_id text,
  body jsonb NOT NULL,
  mac text NOT NULL,
  PRIMARY KEY (day, id),
  UNIQUE (day, seq)
) PARTITION BY RANGE (day);
CREATE INDEX IF NOT EXISTS audit_events_at ON ${s}.audit_events (at, seq);
CREATE INDEX IF NOT EXISTS audit_events_call ON ${s}.audit_events (call_id, at, seq) WHERE call_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_events_type_at ON ${s}.audit_events (type, at, call_id);
CREATE OR REPLACE FUNCTION ${s}.audit_ensure_partition(d date) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${s}, pg_temp AS $fn$
DECLARE
  name text := 'audit_events_' || to_char(d, 'YYYYMMDD');
BEGIN
  IF to_regclass(quote_ident(name)) IS NULL THEN
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)', name, d, d + 1);
  END IF;
END
$fn$;
REVOKE ALL ON FUNCTION ${s}.audit_ensure_partition(date) FROM PUBLIC;
`;
}

/** What an owner grants the app's role: read and append, nothing else (documented in docs/audit-events.md). */
export function grantsFor(schema: string, role: string): string {
  const s = ident(schema);
  const r = ident(role);
  return `
GRANT USAGE ON SCHEMA ${s} TO ${r};
GRANT SELECT, INSERT ON ${s}.audit_events TO ${r};
GRANT EXECUTE ON FUNCTION ${s}.audit_ensure_partition(date) TO ${r};
`;
}

export async function currentSchema(sql: Pick<Sql, 'query'>): Promise<string> {
  const [row] = await sql.query<{ schema: string }>('SELECT current_schema() AS schema');
  if (!row?.schema) throw new Error('the audit database has no current schema (check search_path)');
  return row.schema;
}

/** True when the table is there (an app role without DDL rights checks before it tries to create it). */
export async function schemaExists(sql: Pick<Sql, 'query'>): Promise<boolean> {
  const [row] = await sql.query<{ t: string | null }>(`SELECT to_regclass('audit_events')::text AS t`);
  return Boolean(row?.t);
}

export async function migrate(sql: Sql): Promise<void> {
  if (await schemaExists(sql)) return;
  await sql.exec(schemaSql(await currentSchema(sql)));
}

/** A quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
