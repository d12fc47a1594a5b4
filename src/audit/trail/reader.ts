import { AppError } from '../../shared/errors.js';
import type { AuditEvent, CallOutcome } from '../events.js';
import { dayOf, eventMac, genesis } from './chain.js';
import type { Sql } from './sql.js';

/** A time bound: an ISO 8601 string or a Date. */
export type TimeBound = string | Date;

export interface CallSearch {
  from?: TimeBound;
  to?: TimeBound;
  outcome?: CallOutcome;
  verified?: boolean;
  customerId?: string;
  cursor?: string;
  /** 1–1000; 100 by default (A11). */
  limit?: number;
}

export interface CallSummary {
  callId: string;
  startedAt: string;
  endedAt?: string;
  outcome?: CallOutcome;
  verified: boolean;
  customerId?: string;
  maskedCaller: string;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  firstBadEventId?: string;
}

const EXPORT_BATCH = 1000;
const VERIFY_BATCH = 1000;
const DAY_MS = 86_400_000;

const iso = (t: TimeBound) => (typeof t === 'string' ? new Date(t) : t).toISOString();

/** Reads of the durable trail (PostgreSQL or PGlite). The outbox's share is added by `audit.ts`. */
export function createTrailReader(deps: { sql: Sql; key: Buffer }) {
  const { sql, key } = deps;

  return {
    async timeline(callId: string): Promise<AuditEvent[]> {
      const rows = await sql.query<{ body: AuditEvent }>('SELECT body FROM audit_events WHERE call_id = $1 ORDER BY at, seq', [callId]);
      return rows.map((r) => r.body);
    },

    async searchCalls(q: CallSearch): Promise<{ calls: CallSummary[]; nextCursor?: string }> {
      const limit = Math.min(Math.max(Math.trunc(q.limit ?? 100), 1), 1000);
      const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
      const rows = await sql.query<{ call_id: string; started_at: string; masked_caller: string; ended_at: string | null; outcome: string | null; customer_id: string | null; verified: boolean }>(
        `SELECT s.call_id, s.body->>'at' AS started_at, s.body->>'maskedCaller' AS masked_caller,
                e.body->>'at' AS ended_at, e.body->>'outcome' AS outcome, v.customer_id, (v.call_id IS NOT NULL) AS verified
           FROM audit_events s
           LEFT JOIN LATERAL (SELECT x.body FROM audit_events x WHERE x.call_id = s.call_id AND x.type = 'call_ended' ORDER BY x.at LIMIT 1) e ON true
           LEFT JOIN LATERAL (SELECT y.call_id, y.customer_id FROM audit_events y WHERE y.call_id = s.call_id AND y.type = 'confirmed' ORDER BY y.at LIMIT 1) v ON true
          WHERE s.type = 'call_started'
            AND ($1::timestamptz IS NULL OR s.at >= $1::timestamptz)
            AND ($2::timestamptz IS NULL OR s.at < $2::timestamptz)
            AND ($3::text IS NULL OR e.body->>'outcome' = $3::text)
            AND ($4::boolean IS NULL OR (v.call_id IS NOT NULL) = $4::boolean)
            AND ($5::text IS NULL OR v.customer_id = $5::text)
            AND ($6::timestamptz IS NULL OR (s.at, s.call_id) < ($6::timestamptz, $7::text))
          ORDER BY s.at DESC, s.call_id DESC
          LIMIT $8`,
        [
          q.from ? iso(q.from) : null,
          q.to ? iso(q.to) : null,
          q.outcome ?? null,
          q.verified ?? null,
          q.customerId ?? null,
          cursor?.at ?? null,
          cursor?.callId ?? null,
          limit + 1,
        ],
      );
      const page = rows.slice(0, limit);
      const calls = page.map((r) => ({
        callId: r.call_id,
        startedAt: r.started_at,
        ...(r.ended_at ? { endedAt: r.ended_at } : {}),
        ...(r.outcome ? { outcome: r.outcome as CallOutcome } : {}),
        verified: r.verified,
        ...(r.customer_id ? { customerId: r.customer_id } : {}),
        maskedCaller: r.masked_caller,
      }));
      const last = page[page.length - 1];
      return rows.length > limit && last ? { calls, nextCursor: encodeCursor({ at: last.started_at, callId: last.call_id }) } : { calls };
    },

    /** Every event in [from, to), oldest first, read in keyset batches: memory stays constant whatever the range. */
    async *exportEvents(range: { from: TimeBound; to: TimeBound }): AsyncIterable<AuditEvent> {
      let after: { at: string; seq: number } | undefined;
      for (;;) {
        const rows = await sql.query<{ body: AuditEvent; seq: number }>(
          `SELECT body, seq FROM audit_events
            WHERE at >= $1::timestamptz AND at < $2::timestamptz
              AND ($3::timestamptz IS NULL OR (at, seq) > ($3::timestamptz, $4::integer))
            ORDER BY at, seq LIMIT ${EXPORT_BATCH}`,
          [iso(range.from), iso(range.to), after?.at ?? null, after?.seq ?? null],
        );
        for (const r of rows) yield r.body;
        const last = rows[rows.length - 1];
        if (!last || rows.length < EXPORT_BATCH) return;
        after = { at: last.body.at, seq: last.seq };
      }
    },

    /**
     * Checks the MAC chain of every day that [from, to] touches, whole days (a chain starts at its
     * day's first event). Names the first event whose MAC or place does not follow from the one
     * before: an edited event itself, the event after a deleted one, the first of a reordered pair.
     */
    async verify(range: { from: TimeBound; to: TimeBound }): Promise<VerifyResult> {
      const [bounds] = await sql.query<{ first: string | null; last: string | null }>(
        `SELECT to_char(min(day), 'YYYY-MM-DD') AS first, to_char(max(day), 'YYYY-MM-DD') AS last FROM audit_events WHERE day >= $1::date AND day <= $2::date`,
        [dayOf(iso(range.from)), dayOf(iso(range.to))],
      );
      let checked = 0;
      if (!bounds?.first || !bounds.last) return { ok: true, checked };
      for (let t = Date.parse(bounds.first); t <= Date.parse(bounds.last); t += DAY_MS) {
        const day = new Date(t).toISOString().slice(0, 10);
        let expected = 1;
        let prev = genesis(day);
        for (;;) {
          const rows = await sql.query<{ seq: number; id: string; body: AuditEvent; mac: string }>(
            `SELECT seq, id::text AS id, body, mac FROM audit_events WHERE day = $1::date AND seq >= $2 ORDER BY seq LIMIT ${VERIFY_BATCH}`,
            [day, expected],
          );
          for (const r of rows) {
            checked += 1;
            if (r.seq !== expected || r.body.id !== r.id || dayOf(r.body.at) !== day || eventMac(key, prev, day, r.seq, r.body) !== r.mac) {
              return { ok: false, checked, firstBadEventId: r.id };
            }
            prev = r.mac;
            expected += 1;
          }
          if (rows.length < VERIFY_BATCH) break;
        }
      }
      return { ok: true, checked };
    },
  };
}

export type TrailReader = ReturnType<typeof createTrailReader>;

function encodeCursor(c: { at: string; callId: string }): string {
  return Buffer.from(JSON.stringify([c.at, c.callId])).toString('base64url');
}

/** A cursor we did not make is a `bad_request` (400), never a silent first page. */
function decodeCursor(s: string): { at: string; callId: string } {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    v = undefined;
  }
  if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string' && !Number.isNaN(Date.parse(v[0]))) return { at: v[0], callId: v[1] };
  throw new AppError('bad_request', 'The cursor is not one this server gave out.');
}
