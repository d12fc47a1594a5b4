import type { AuditEvent } from '../events.js';
import { dayOf, eventMac, genesis } from './chain.js';
import type { Sql } from './sql.js';

/** Serialises chain writers across processes and instances (the drainer's lease is the first line; this is the second). */
const CHAIN_LOCK = 0x7661_756c;
/** Bind parameters per row of the multi-row INSERT. */
const COLUMNS = 9;
/**
 * Rows per INSERT statement. PostgreSQL takes at most 65,535 bind parameters in one statement, and
 * a drain after an outage hands over up to 16 shards × 500 events at once: without chunks that
 * batch is refused every time and the trail never catches up.
 */
const ROWS_PER_INSERT = 1000;

/** A day's newest event after a write: written to the log too, so a deleted tail is visible (A11). */
export interface DayHead {
  day: string;
  seq: number;
  eventId: string;
  mac: string;
}

/**
 * Appends events to the trail in one transaction, chaining each one's MAC to the previous event of
 * its day. Idempotent by event id: an event already in the trail (a drain that wrote but did not
 * get to trim the outbox) is left out before the chain is computed, so the chain never refers to a
 * MAC that was not written.
 */
export function createTrailWriter(deps: { sql: Sql; key: Buffer }) {
  const { sql, key } = deps;
  const knownDays = new Set<string>();

  return async function append(events: readonly AuditEvent[]): Promise<DayHead[]> {
    if (events.length === 0) return [];
    const newDays = new Set<string>();
    const heads = await sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
      const ids = [...new Set(events.map((e) => e.id))];
      // By day too, so the lookup uses the (day, id) key instead of scanning the days it touches.
      const days = [...new Set(events.map((e) => dayOf(e.at)))];
      const present = new Set(
        (await tx.query<{ id: string }>('SELECT id::text AS id FROM audit_events WHERE day = ANY($1::date[]) AND id = ANY($2::uuid[])', [days, ids])).map((r) => r.id),
      );
      const seen = new Set<string>();
      const byDay = new Map<string, AuditEvent[]>();
      for (const e of events) {
        if (present.has(e.id) || seen.has(e.id)) continue;
        seen.add(e.id);
        const day = dayOf(e.at);
        byDay.set(day, [...(byDay.get(day) ?? []), e]);
      }
      const rows: unknown[][] = [];
      const out: DayHead[] = [];
      for (const [day, list] of byDay) {
        if (!knownDays.has(day)) {
          await tx.query('SELECT audit_ensure_partition($1::date)', [day]);
          newDays.add(day);
        }
        const [head] = await tx.query<{ seq: number; mac: string }>('SELECT seq, mac FROM audit_events WHERE day = $1::date ORDER BY seq DESC LIMIT 1', [day]);
        let seq = head?.seq ?? 0;
        let prev = head?.mac ?? genesis(day);
        for (const e of list) {
          seq += 1;
          prev = eventMac(key, prev, day, seq, e);
          const fields = e as { callId?: string; customerId?: string };
          rows.push([day, seq, e.id, e.at, e.type, fields.callId ?? null, fields.customerId ?? null, JSON.stringify(e), prev]);
        }
        out.push({ day, seq, eventId: list[list.length - 1]?.id ?? '', mac: prev });
      }
      for (let from = 0; from < rows.length; from += ROWS_PER_INSERT) {
        const chunk = rows.slice(from, from + ROWS_PER_INSERT);
        const tuples = chunk.map((_, r) => `(${Array.from({ length: COLUMNS }, (_, i) => `$${r * COLUMNS + i + 1}`).join(',')})`);
        await tx.query(
          `INSERT INTO audit_events (day, seq, id, at, type, call_id, customer_id, body, mac) VALUES ${tuples.join(',')} ON CONFLICT (day, id) DO NOTHING`,
          chunk.flat(),
        );
      }
      return out;
    });
    for (const d of newDays) knownDays.add(d);
    return heads;
  };
}

export type TrailWriter = ReturnType<typeof createTrailWriter>;
