import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../src/audit/events.js';
import { macKey } from '../src/audit/trail/chain.js';
import { createTrailReader } from '../src/audit/trail/reader.js';
import { migrate } from '../src/audit/trail/schema.js';
import { pgliteSql, type Sql } from '../src/audit/trail/sql.js';
import { createTrailWriter } from '../src/audit/trail/writer.js';
import { TEST_DATA_SECRET } from './support/audit-db.js';

/** The embedded store (PGlite) runs the trail's own SQL: the same writes, reads and chain as PostgreSQL (npm start, DESIGN B1). */

const key = macKey(TEST_DATA_SECRET);
let sql: Sql;

// PGlite compiles its WebAssembly and runs initdb in process: about a second, much more on a busy machine.
beforeAll(async () => {
  sql = pgliteSql();
  await migrate(sql);
}, 120_000);
afterAll(async () => {
  await sql.close();
});

describe('the trail on the embedded PGlite', () => {
  it('when events are appended twice over, then the timeline, the export, the search and the chain read as on PostgreSQL, and an edit is found', async () => {
    const write = createTrailWriter({ sql, key });
    const reader = createTrailReader({ sql, key });
    const callId = 'CA-embedded-1';
    const at = (s: number) => `2026-11-30T09:00:${String(s).padStart(2, '0')}.000Z`;
    const events = [
      { id: randomUUID(), type: 'call_started', at: at(1), callId, maskedCaller: '+…0101', maskedDialled: '+…0199', provider: 'twilio' },
      { id: randomUUID(), type: 'transfer', at: at(2), callId, queue: 'agents', verified: false },
      { id: randomUUID(), type: 'call_ended', at: at(3), callId, outcome: 'transferred', durationMs: 3000 },
    ] as AuditEvent[];
    await write(events.slice(0, 2));
    await write(events.slice(1));
    expect((await reader.timeline(callId)).map((e) => e.id)).toEqual(events.map((e) => e.id));
    const exported: string[] = [];
    for await (const e of reader.exportEvents({ from: '2026-11-30T00:00:00Z', to: '2026-12-01T00:00:00Z' })) exported.push(e.id);
    expect(exported).toEqual(events.map((e) => e.id));
    expect((await reader.searchCalls({ outcome: 'transferred' })).calls).toEqual([
      { callId, startedAt: at(1), endedAt: at(3), outcome: 'transferred', verified: false, maskedCaller: '+…0101' },
    ]);
    const day = { from: '2026-11-30T00:00:00Z', to: '2026-11-30T23:59:59Z' };
    expect(await reader.verify(day)).toEqual({ ok: true, checked: 3 });
    await sql.query(`UPDATE audit_events SET body = jsonb_set(body, '{queue}', '"vip"') WHERE id = $1`, [events[1]?.id]);
    expect(await reader.verify(day)).toEqual({ ok: false, checked: 2, firstBadEventId: events[1]?.id });
  });
});
