import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../src/audit/events.js';
import { migrate } from '../src/audit/trail/schema.js';
import { pgliteSql, type Sql } from '../src/audit/trail/sql.js';
import { caller, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { freshAuditSql } from './support/audit-db.js';
import { auditSchemaValidator } from './support/audit-schemas.js';
import { seedCalls, type SeededCall } from './support/audit-seed.js';
import { enrollDevice } from './support/authenticator.js';
import { streamGet } from './support/http-stream.js';

/**
 * Issue 14 item 4 (DESIGN A11) over HTTP, on real PostgreSQL and on the embedded PGlite: the calls
 * search by each filter and page by page over 1,000 calls, the NDJSON export (and a cut one), the
 * chain check, and a bad query answered 400 in the A5 error shape.
 */

const DAY = '2026-11-01';
const NEXT_DAY = '2026-11-02';
const valid = auditSchemaValidator();

interface CallRow {
  callId: string;
  startedAt: string;
  endedAt?: string;
  outcome?: string;
  verified: boolean;
  customerId?: string;
  maskedCaller: string;
}

/** Every page of a search, following nextCursor; each page's size kept. */
async function allPages(t: TestApp, query: Record<string, string>): Promise<{ calls: CallRow[]; pageSizes: number[] }> {
  const calls: CallRow[] = [];
  const pageSizes: number[] = [];
  let cursor: string | undefined;
  do {
    const res = await request(t.app)
      .get('/admin/v1/calls')
      .query({ ...query, ...(cursor ? { cursor } : {}) })
      .set('Authorization', `Bearer ${t.adminKey}`);
    expect(res.status, res.text).toBe(200);
    const body = res.body as { calls: CallRow[]; nextCursor?: string };
    calls.push(...body.calls);
    pageSizes.push(body.calls.length);
    cursor = body.nextCursor;
  } while (cursor);
  return { calls, pageSizes };
}

const newestFirst = (calls: readonly { startedAt: string; callId: string }[]) =>
  [...calls].sort((a, b) => (a.startedAt === b.startedAt ? b.callId.localeCompare(a.callId) : b.startedAt.localeCompare(a.startedAt))).map((c) => c.callId);

/** A trail database that can be told to fail the n-th export batch from now: PostgreSQL going away mid-export. */
function faultySql(base: Sql) {
  let failBatchesAfter: number | undefined;
  const sql: Sql = {
    ...base,
    where: base.where,
    async query(text, params) {
      if (failBatchesAfter !== undefined && /ORDER BY at, seq LIMIT/.test(text)) {
        if (failBatchesAfter === 0) {
          failBatchesAfter = undefined;
          throw new Error('Connection terminated unexpectedly');
        }
        failBatchesAfter -= 1;
      }
      return base.query(text, params);
    },
  };
  return { sql, failExportBatchAfter: (n: number) => (failBatchesAfter = n) };
}

describe('the audit routes on PostgreSQL', () => {
  let t: TestApp;
  let base: Sql;
  let faults: ReturnType<typeof faultySql>;
  let seeded: SeededCall[];
  let server: Server;
  let origin: string;
  const real: { verified?: string; transferred?: string } = {};
  const admin = () => ({ Authorization: `Bearer ${t.adminKey}` });

  beforeAll(async () => {
    base = await freshAuditSql();
    faults = faultySql(base);
    t = await startTestApp({ overrides: { auditSql: faults.sql } });
    seeded = await seedCalls(base, DAY, 1000, t.config.dataSecret);
    // Whole calls too, today: one verified (balance), one to an agent.
    const device = await enrollDevice(t);
    const verified = caller(t, { from: '+14155550177' });
    await verified.dial();
    const did = spokenCode(await verified.press('1')) ?? '';
    expect((await device.confirm(did)).status).toBe(200);
    const update = t.twilioFake.callUpdates().find((u) => u.path.endsWith(`/Calls/${verified.callSid}.json`));
    await verified.fetch(update?.form.Url ?? '');
    await verified.hangUp();
    const agent = caller(t);
    await agent.dial();
    await agent.press('0');
    await agent.hangUp();
    real.verified = verified.callSid;
    real.transferred = agent.callSid;
    await t.built.deps.audit.drainNow();
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 120_000);
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await t?.close();
    await base?.close();
  });

  it('when 1,000 calls of a day are listed, then they come newest first, 100 a page, each once, the last page without a cursor', async () => {
    const { calls, pageSizes } = await allPages(t, { from: DAY, to: NEXT_DAY });

    expect(pageSizes).toEqual(Array.from({ length: 10 }, () => 100));
    expect(calls.map((c) => c.callId)).toEqual(newestFirst(seeded));
    expect(calls[0]).toEqual({ callId: 'CA-seed-2026-11-01-00999', startedAt: '2026-11-01T16:39:00.000Z', endedAt: '2026-11-01T16:39:30.000Z', outcome: 'contained', verified: false, maskedCaller: '+…1999' });
  });

  it.each([
    ['outcome=transferred', { outcome: 'transferred' }, (c: SeededCall) => c.outcome === 'transferred'],
    ['outcome=abandoned', { outcome: 'abandoned' }, (c: SeededCall) => c.outcome === 'abandoned'],
    ['verified=true', { verified: 'true' }, (c: SeededCall) => c.verified],
    ['verified=false', { verified: 'false' }, (c: SeededCall) => !c.verified],
    ['customerId=cust_s2', { customerId: 'cust_s2' }, (c: SeededCall) => c.customerId === 'cust_s2'],
    ['a time range of one hour', { from: `${DAY}T05:00:00Z`, to: `${DAY}T06:00:00Z` }, (c: SeededCall) => c.startedAt >= `${DAY}T05:00` && c.startedAt < `${DAY}T06:00`],
    ['every filter at once', { from: `${DAY}T02:00:00+01:00`, to: `${DAY}T12:00:00Z`, outcome: 'contained', verified: 'true', customerId: 'cust_s0' }, (c: SeededCall) => c.startedAt >= `${DAY}T01:00` && c.startedAt < `${DAY}T12:00` && c.outcome === 'contained' && c.customerId === 'cust_s0'],
  ])('when the search asks for %s, then exactly the matching calls come, newest first', async (_what, query, matches) => {
    const { calls } = await allPages(t, { from: DAY, to: NEXT_DAY, ...query });
    const expected = seeded.filter(matches);

    expect(expected.length).toBeGreaterThan(5);
    expect(calls.map((c) => c.callId)).toEqual(newestFirst(expected));
    for (const c of calls) {
      const s = seeded.find((x) => x.callId === c.callId);
      expect(c).toMatchObject({ outcome: s?.outcome, verified: s?.verified, ...(s?.customerId ? { customerId: s.customerId } : {}) });
    }
  });

  it('when whole calls were made today, then the search finds them with their outcome, verification and masked caller', async () => {
    const { calls } = await allPages(t, { from: new Date(Date.now() - 3_600_000).toISOString() });
    const byId = new Map(calls.map((c) => [c.callId, c]));

    expect(byId.get(real.verified ?? '')).toMatchObject({ outcome: 'contained', verified: true, customerId: 'cust_001', maskedCaller: '+…0177' });
    expect(byId.get(real.transferred ?? '')).toMatchObject({ outcome: 'transferred', verified: false, maskedCaller: '+…0101' });
    expect(byId.get(real.verified ?? '')?.endedAt).toBeDefined();
  });

  it.each([
    ['a from that is no time', '/admin/v1/calls?from=yesterday'],
    ['an unknown outcome', '/admin/v1/calls?outcome=hung_up'],
    ['verified that is not true or false', '/admin/v1/calls?verified=yes'],
    ['a customer id with a space', '/admin/v1/calls?customerId=cust%20001'],
    ['a cursor of the wrong shape', '/admin/v1/calls?cursor=%21%21'],
    ['a cursor this server did not give', `/admin/v1/calls?cursor=${Buffer.from('["not a time","x"]').toString('base64url')}`],
    ['a parameter it does not know', '/admin/v1/calls?limit=5'],
    ['a repeated parameter', '/admin/v1/calls?outcome=contained&outcome=abandoned'],
    ['from after to', `/admin/v1/calls?from=${NEXT_DAY}&to=${DAY}`],
    ['an export without to', `/admin/v1/audit/export?from=${DAY}`],
    ['a verify with a bad time', `/admin/v1/audit/verify?from=${DAY}&to=soon`],
  ])('when the query has %s, then the answer is 400 bad_request in the error shape', async (_what, path) => {
    const res = await request(t.app).get(path).set(admin());

    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'bad_request', message: expect.any(String) });
  });

  it('when a day is exported, then every event comes as NDJSON oldest first, valid against its schema, ending with export_end and its count', async () => {
    const res = await streamGet(`${origin}/admin/v1/audit/export?from=${DAY}&to=${NEXT_DAY}`, admin(), { keep: true });

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(res.complete).toBe(true);
    const lines = (res.text ?? '').trimEnd().split('\n').map((l) => JSON.parse(l) as AuditEvent | { type: 'export_end'; count: number });
    const events = lines.slice(0, -1) as AuditEvent[];
    // 1,000 call_started and call_ended, and a confirmed for every fourth call.
    expect(events).toHaveLength(2250);
    expect(lines.at(-1)).toEqual({ type: 'export_end', count: 2250 });
    expect(events.map((e) => e.at)).toEqual(events.map((e) => e.at).sort());
    expect(new Set(events.map((e) => e.id)).size).toBe(2250);
    for (const e of events) expect(valid(e)).toEqual([]);
  });

  it('when an empty range is exported, then the stream is the export_end line alone, count 0', async () => {
    const res = await streamGet(`${origin}/admin/v1/audit/export?from=2020-01-01&to=2020-01-02`, admin(), { keep: true });

    expect(res.status).toBe(200);
    expect(res.text).toBe('{"type":"export_end","count":0}\n');
  });

  it('when the database fails in the middle of an export, then the stream stops cut, without export_end, and the app logs why', async () => {
    faults.failExportBatchAfter(1);
    const res = await streamGet(`${origin}/admin/v1/audit/export?from=${DAY}&to=${NEXT_DAY}`, admin(), { keep: true });

    expect(res.status).toBe(200);
    expect(res.complete).toBe(false);
    // What left before the failure: whole lines of the first batch, never the end line.
    expect(res.lines).toBeGreaterThan(0);
    expect(res.lines).toBeLessThanOrEqual(1000);
    expect(res.text).not.toContain('export_end');
    for (const line of (res.text ?? '').trimEnd().split('\n')) expect(valid(JSON.parse(line) as AuditEvent)).toEqual([]);
    expect(t.logs.some((l) => l.msg === 'audit export cut: the trail could not be read to the end')).toBe(true);
    // The app goes on: the next export is whole.
    const again = await streamGet(`${origin}/admin/v1/audit/export?from=${DAY}&to=${NEXT_DAY}`, admin());
    expect(again).toMatchObject({ complete: true, lines: 2251, lastLine: '{"type":"export_end","count":2250}' });
  });

  it('when the database fails before the first batch, then the export is a 503 in the error shape, not an empty 200', async () => {
    faults.failExportBatchAfter(0);
    const res = await request(t.app).get(`/admin/v1/audit/export?from=${DAY}&to=${NEXT_DAY}`).set(admin());

    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: 'unavailable', message: expect.any(String) });
  });

  it('when the chain of the seeded day is checked, then it holds; once a row is edited by the owner, verify names that event', async () => {
    const ok = await request(t.app).get(`/admin/v1/audit/verify?from=${DAY}T00:00:00Z&to=${DAY}T23:59:59Z`).set(admin());
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ ok: true, checked: 2250 });

    const [victim] = await base.query<{ id: string }>(`SELECT id::text AS id FROM audit_events WHERE day = $1::date ORDER BY seq OFFSET 700 LIMIT 1`, [DAY]);
    await base.query(`UPDATE audit_events SET body = jsonb_set(body, '{maskedCaller}', '"+…0000"') WHERE id = $1`, [victim?.id]);
    const bad = await request(t.app).get(`/admin/v1/audit/verify?from=${DAY}&to=${DAY}`).set(admin());
    expect(bad.body).toEqual({ ok: false, checked: 701, firstBadEventId: victim?.id });
  });
});

describe('the audit routes on the embedded PGlite', () => {
  let t: TestApp;
  let sql: Sql;
  let seeded: SeededCall[];

  beforeAll(async () => {
    sql = pgliteSql();
    await migrate(sql);
    // Embedded all through, as `npm start` runs: PGlite works on this thread, so a real Redis's 500 ms
    // command timeout could fire while a query holds it on a loaded machine.
    t = await startTestApp({ env: { REDIS_URL: '' }, overrides: { auditSql: sql } });
    expect(t.config.store).toEqual({ kind: 'embedded' });
    seeded = await seedCalls(sql, DAY, 250, t.config.dataSecret);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await sql?.close();
  });

  it('when calls are searched, exported and checked, then the same answers come as on PostgreSQL', async () => {
    const { calls, pageSizes } = await allPages(t, { from: DAY, to: NEXT_DAY });
    expect(pageSizes).toEqual([100, 100, 50]);
    expect(calls.map((c) => c.callId)).toEqual(newestFirst(seeded));
    const transferred = await allPages(t, { from: DAY, to: NEXT_DAY, outcome: 'transferred', verified: 'true' });
    expect(transferred.calls.map((c) => c.callId)).toEqual(newestFirst(seeded.filter((c) => c.outcome === 'transferred' && c.verified)));

    const exported = await request(t.app).get(`/admin/v1/audit/export?from=${DAY}&to=${NEXT_DAY}`).set('Authorization', `Bearer ${t.adminKey}`).buffer(true).parse((res, cb) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => cb(null, text));
    });
    expect(exported.status).toBe(200);
    const lines = String(exported.body).trimEnd().split('\n');
    expect(lines).toHaveLength(250 * 2 + 63 + 1);
    expect(lines.at(-1)).toBe(`{"type":"export_end","count":${250 * 2 + 63}}`);

    const verified = await request(t.app).get(`/admin/v1/audit/verify?from=${DAY}&to=${DAY}`).set('Authorization', `Bearer ${t.adminKey}`);
    expect(verified.body).toEqual({ ok: true, checked: 563 });
  });
});
