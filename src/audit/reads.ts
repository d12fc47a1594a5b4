import { AppError } from '../shared/errors.js';
import type { Audit } from './audit.js';
import type { Actor, AuditEvent } from './events.js';
import type { CallSearch, CallSummary, VerifyResult } from './trail/reader.js';

/** Who reads, from where (A9: `actor` and `sourceIp` of the `audit_viewed`/`audit_exported` event). */
export interface ReadBy {
  actor: Actor;
  sourceIp: string;
}

/** A closed range of ISO instants, as the routes and the console take it. */
export interface Range {
  from: Date;
  to: Date;
}

/** Lines of one export are sent in chunks of about this size: one write per chunk, not per event. */
const EXPORT_CHUNK_BYTES = 64 * 1024;

/**
 * The trail's reads as compliance uses them (DESIGN A11), each one itself recorded: the search, a
 * call's timeline and the chain check as `audit_viewed`, an export as `audit_exported`, with the
 * reader as actor and `subject` naming what was read (never part of a call's timeline). The routes
 * of /admin/v1 and the console both go through here, so a read cannot be served unrecorded.
 *
 * The event is recorded after the data is read and before any of it is answered: an access that
 * cannot be audited (the outbox past its bound, the store away) is refused, not served (A11).
 */
export function createAuditedReads(audit: Audit) {
  const mayRecord = () => {
    if (!audit.canAudit()) throw new AppError('unavailable', 'The audit trail cannot record this read right now; try again shortly.');
  };

  return {
    async searchCalls(q: CallSearch, by: ReadBy): Promise<{ calls: CallSummary[]; nextCursor?: string }> {
      mayRecord();
      const page = await audit.searchCalls(q);
      await audit.record('audit_viewed', { subject: callsSubject(q), count: page.calls.length, ...by });
      return page;
    },

    /** undefined for a call never seen (→ 404): nothing was read, so nothing is recorded. */
    async timeline(callId: string, by: ReadBy): Promise<AuditEvent[] | undefined> {
      mayRecord();
      const events = await audit.timeline(callId);
      if (!events) return undefined;
      await audit.record('audit_viewed', { subject: subjectOf('call', callId), count: events.length, ...by });
      return events;
    },

    async verify(range: Range, by: ReadBy): Promise<VerifyResult> {
      mayRecord();
      const result = await audit.verify(range);
      await audit.record('audit_viewed', { subject: `verify:${rangeText(range)}`, count: result.checked, ...by });
      return result;
    },

    /**
     * Every event of [from, to) as NDJSON chunks, oldest first, ending with the `export_end` line.
     * The first batch is read (and the export recorded) before this resolves, so a database that
     * cannot be read is a 503 rather than an empty 200; a failure later throws from the iterator,
     * and the stream ends without `export_end`: a cut export is visible as cut.
     */
    async exportNdjson(range: Range, by: ReadBy): Promise<AsyncIterable<string>> {
      mayRecord();
      const events = audit.exportEvents(range)[Symbol.asyncIterator]();
      let first: IteratorResult<AuditEvent>;
      try {
        first = await events.next();
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw new AppError('unavailable', 'The audit trail cannot be read right now.', { cause: err });
      }
      // The count is in the stream's last line; the event says what was asked for, before any of it leaves.
      await audit.record('audit_exported', { subject: `export:${rangeText(range)}`, ...by });
      return chunks(first, events);
    },
  };
}

export type AuditedReads = ReturnType<typeof createAuditedReads>;

async function* chunks(first: IteratorResult<AuditEvent>, rest: AsyncIterator<AuditEvent>): AsyncGenerator<string> {
  let count = 0;
  let chunk = '';
  try {
    for (let next = first; !next.done; next = await rest.next()) {
      count += 1;
      chunk += `${JSON.stringify(next.value)}\n`;
      if (chunk.length >= EXPORT_CHUNK_BYTES) {
        yield chunk;
        chunk = '';
      }
    }
  } finally {
    // A reader that went away stops the keyset reads too (the generator behind them is closed).
    await rest.return?.();
  }
  yield `${chunk}${JSON.stringify({ type: 'export_end', count })}\n`;
}

const rangeText = (r: Range) => `${r.from.toISOString()}/${r.to.toISOString()}`;

/** `call:<id>` when the id fits a subject, else the kind alone (the event never carries what it cannot hold). */
export const subjectOf = (kind: string, id: string) => (/^[A-Za-z0-9._:@+=-]{1,128}$/.test(id) ? `${kind}:${id}` : kind);

/** `calls?from=…&to=…&outcome=…`: the search as asked, in a fixed order (the cursor names the page). */
export function callsSubject(q: CallSearch): string {
  const parts: string[] = [];
  const time = (t: CallSearch['from']) => (t instanceof Date ? t : new Date(t ?? '')).toISOString();
  if (q.from !== undefined) parts.push(`from=${time(q.from)}`);
  if (q.to !== undefined) parts.push(`to=${time(q.to)}`);
  if (q.outcome !== undefined) parts.push(`outcome=${q.outcome}`);
  if (q.verified !== undefined) parts.push(`verified=${q.verified}`);
  if (q.customerId !== undefined) parts.push(`customerId=${q.customerId}`);
  if (q.cursor !== undefined) parts.push(`cursor=${q.cursor}`);
  return parts.length === 0 ? 'calls' : `calls?${parts.join('&')}`;
}
