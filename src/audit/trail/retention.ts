import type { Sql } from './sql.js';
import type { DayHead } from './writer.js';

const DAY_MS = 86_400_000;
const PARTITION = /^audit_events_(\d{4})(\d{2})(\d{2})$/;

/**
 * DESIGN A11 retention: drops whole day partitions older than `retentionDays` (never a row of a
 * day that is kept). Needs an owner's connection: the app's role can neither drop nor delete.
 * Each dropped day's chain head is returned first, so the caller logs what was let go.
 */
export async function dropExpiredDays(sql: Sql, options: { retentionDays: number; now: number }): Promise<{ dropped: DayHead[]; kept: number }> {
  const cutoff = new Date(Math.floor(options.now / DAY_MS) * DAY_MS - options.retentionDays * DAY_MS).toISOString().slice(0, 10);
  const partitions = await sql.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_events'::regclass ORDER BY c.relname`,
  );
  const dropped: DayHead[] = [];
  let kept = 0;
  for (const { name } of partitions) {
    const m = PARTITION.exec(name);
    if (!m) continue;
    const day = `${m[1]}-${m[2]}-${m[3]}`;
    if (day >= cutoff) {
      kept += 1;
      continue;
    }
    const [head] = await sql.query<{ seq: number; id: string; mac: string }>(`SELECT seq, id::text AS id, mac FROM audit_events WHERE day = $1::date ORDER BY seq DESC LIMIT 1`, [day]);
    // The name comes from the catalogue and matched PARTITION: nothing to quote but the identifier itself.
    await sql.exec(`DROP TABLE "${name}"`);
    dropped.push({ day, seq: head?.seq ?? 0, eventId: head?.id ?? '', mac: head?.mac ?? '' });
  }
  return { dropped, kept };
}
