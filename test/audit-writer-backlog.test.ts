import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../src/audit/events.js';
import { macKey } from '../src/audit/trail/chain.js';
import { createTrailReader } from '../src/audit/trail/reader.js';
import type { Sql } from '../src/audit/trail/sql.js';
import { createTrailWriter } from '../src/audit/trail/writer.js';
import { TEST_DATA_SECRET, freshAuditSql } from './support/audit-db.js';

/**
 * After an outage of the trail's database the drainer hands over a whole backlog at once (up to 16
 * shards × 500 events). PostgreSQL takes at most 65,535 bind parameters per statement, so one
 * INSERT of 8,000 nine-column rows is refused; the writer must still get them all in, chained.
 */
describe('the trail writer with a drain backlog', () => {
  let sql: Sql;
  beforeAll(async () => {
    sql = await freshAuditSql();
  });
  afterAll(async () => {
    await sql?.close();
  });

  it('when 8,000 events are appended in one call, then all are written in one chain that verifies', async () => {
    const key = macKey(TEST_DATA_SECRET);
    const write = createTrailWriter({ sql, key });
    const base = Date.parse('2026-11-29T08:00:00.000Z');
    const events = Array.from({ length: 8000 }, (_, i) => ({
      id: randomUUID(),
      type: 'call_started',
      at: new Date(base + i).toISOString(),
      callId: `CA-backlog-${i}`,
      maskedCaller: '+…0101',
      maskedDialled: '+…0199',
      provider: 'twilio',
    })) as AuditEvent[];
    const heads = await write(events);
    expect(heads).toEqual([expect.objectContaining({ day: '2026-11-29', seq: 8000, eventId: events[7999]?.id })]);
    const [row] = await sql.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_events WHERE day = '2026-11-29'");
    expect(row?.n).toBe(8000);
    // Written again (a drain that wrote but did not trim its outbox): nothing doubles.
    expect(await write(events.slice(0, 3000))).toEqual([]);
    const reader = createTrailReader({ sql, key });
    expect(await reader.verify({ from: '2026-11-29T00:00:00Z', to: '2026-11-29T23:59:59Z' })).toEqual({ ok: true, checked: 8000 });
  });
});
