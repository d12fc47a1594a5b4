import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AuditEvent } from '../src/audit/events.js';
import { macKey } from '../src/audit/trail/chain.js';
import { createTrailReader } from '../src/audit/trail/reader.js';
import { dropExpiredDays } from '../src/audit/trail/retention.js';
import { grantsFor, migrate } from '../src/audit/trail/schema.js';
import { postgresSql, type Sql } from '../src/audit/trail/sql.js';
import { createTrailWriter } from '../src/audit/trail/writer.js';
import { freshAuditSchema, TEST_DATA_SECRET, withSearchPath } from './support/audit-db.js';

/** Issue 14 items 2 and 3 on real PostgreSQL: the app's role may only append and read; the MAC chain finds an edit, a deletion, a reordering. */

const key = macKey(TEST_DATA_SECRET);
const DAY = '2026-11-30';
const event = (i: number, at = `${DAY}T10:00:${String(i).padStart(2, '0')}.000Z`): AuditEvent =>
  ({ id: randomUUID(), type: 'did_issued', at, callId: `CA-tamper-${i}`, sessionId: 'ses_AAAAAAAAAAAAAAAAAAAAAA_tamper01' }) as AuditEvent;

let owner: Sql;
let schema: string;
let ownerUrl: string;

beforeAll(async () => {
  ({ url: ownerUrl, schema } = await freshAuditSchema());
  owner = postgresSql(ownerUrl, { max: 2 });
  await migrate(owner);
});
afterAll(async () => {
  await owner.close();
});

describe('append-only for the app role', () => {
  const role = `vl_app_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  let app: pg.Client;
  beforeAll(async () => {
    await owner.exec(`CREATE ROLE ${role} LOGIN`);
    await owner.exec(grantsFor(schema, role));
    const u = new URL(withSearchPath(inject('auditDatabaseUrl'), schema));
    u.username = role;
    app = new pg.Client({ connectionString: u.toString() });
    await app.connect();
  });
  afterAll(async () => {
    await app.end();
    await owner.exec(`DROP OWNED BY ${role}; DROP ROLE ${role}`);
  });

  it('when the app role appends through the writer, then it may insert (a new day partition included) and read, but every UPDATE, DELETE, TRUNCATE and DROP is refused', async () => {
    const appSql: Sql = { where: 'test', query: async (text, params = []) => (await app.query(text, params as unknown[])).rows, exec: async (text) => void (await app.query(text)), transaction: async (fn) => {
      await app.query('BEGIN');
      try {
        const out = await fn({ query: async (text, params = []) => (await app.query(text, params as unknown[])).rows });
        await app.query('COMMIT');
        return out;
      } catch (err) {
        await app.query('ROLLBACK');
        throw err;
      }
    }, close: async () => undefined };
    const written = [event(1, '2026-11-28T23:59:59.000Z'), event(2, '2026-11-29T00:00:00.000Z')];
    await createTrailWriter({ sql: appSql, key })(written);
    expect((await app.query('SELECT count(*)::int AS n FROM audit_events')).rows[0]).toEqual({ n: 2 });
    for (const statement of [
      `UPDATE audit_events SET type = 'confirmed'`,
      `DELETE FROM audit_events`,
      `TRUNCATE audit_events`,
      `DROP TABLE audit_events_20261128`,
      `UPDATE audit_events_20261129 SET type = 'confirmed'`,
    ]) {
      await expect(app.query(statement), statement).rejects.toThrow(/permission denied|must be owner/);
    }
    expect((await app.query('SELECT count(*)::int AS n FROM audit_events')).rows[0]).toEqual({ n: 2 });
  });
});

describe('the MAC chain', () => {
  const write = createTrailWriter({ sql: postgresSqlFor(), key });
  function postgresSqlFor(): Sql {
    return { where: 'owner', query: (t, p) => owner.query(t, p), exec: (t) => owner.exec(t), transaction: (fn) => owner.transaction(fn), close: async () => undefined };
  }
  const reader = () => createTrailReader({ sql: owner, key });
  const range = { from: `${DAY}T00:00:00.000Z`, to: `${DAY}T23:59:59.999Z` };
  let events: AuditEvent[];

  beforeAll(async () => {
    events = Array.from({ length: 6 }, (_, i) => event(10 + i));
    await write(events.slice(0, 3));
    await write(events.slice(3));
    // Written twice (a drain that crashed before trimming the outbox): still once in the trail, chain intact.
    await write(events.slice(2, 4));
  });

  it('when nothing was touched, then verify checks every event of the day and finds the chain whole', async () => {
    const result = await reader().verify(range);
    expect(result).toEqual({ ok: true, checked: 6 });
    expect(await createTrailReader({ sql: owner, key: macKey('another-secret-of-thirty-two-chars!!') }).verify(range)).toMatchObject({ ok: false, firstBadEventId: events[0]?.id });
  });

  it('when the owner edits an event, then verify names that event', async () => {
    const target = events[2]?.id;
    await owner.query(`UPDATE audit_events SET body = jsonb_set(body, '{type}', '"confirmed"') WHERE id = $1`, [target]);
    expect(await reader().verify(range)).toMatchObject({ ok: false, firstBadEventId: target });
    await owner.query(`UPDATE audit_events SET body = jsonb_set(body, '{type}', '"did_issued"') WHERE id = $1`, [target]);
    expect((await reader().verify(range)).ok).toBe(true);
  });

  it('when the owner swaps two events, then verify names the first of them', async () => {
    const [a, b] = [events[3]?.id, events[4]?.id];
    await owner.query(`UPDATE audit_events SET seq = -seq WHERE id IN ($1, $2)`, [a, b]);
    await owner.query(`UPDATE audit_events SET seq = CASE WHEN id = $1 THEN 5 ELSE 4 END WHERE id IN ($1, $2)`, [a, b]);
    expect(await reader().verify(range)).toMatchObject({ ok: false, firstBadEventId: b });
    await owner.query(`UPDATE audit_events SET seq = -seq WHERE id IN ($1, $2)`, [a, b]);
    await owner.query(`UPDATE audit_events SET seq = CASE WHEN id = $1 THEN 4 ELSE 5 END WHERE id IN ($1, $2)`, [a, b]);
    expect((await reader().verify(range)).ok).toBe(true);
  });

  it('when the owner deletes an event, then verify names the event after the hole', async () => {
    await owner.query(`DELETE FROM audit_events WHERE id = $1`, [events[1]?.id]);
    expect(await reader().verify(range)).toMatchObject({ ok: false, firstBadEventId: events[2]?.id });
  });

  it('when retention runs, then whole day partitions older than the retention are dropped and newer ones kept', async () => {
    const old = { ...event(1), at: '2025-01-02T08:00:00.000Z' } as AuditEvent;
    await write([old]);
    const { dropped, kept } = await dropExpiredDays(owner, { retentionDays: 400, now: Date.parse('2026-12-01T12:00:00Z') });
    expect(dropped.map((d) => d.day)).toEqual(['2025-01-02']);
    expect(dropped[0]).toMatchObject({ seq: 1, eventId: old.id });
    expect(kept).toBeGreaterThanOrEqual(1);
    expect((await owner.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE id = $1`, [old.id]))[0]?.n).toBe(0);
    expect((await owner.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE day = $1::date`, [DAY]))[0]?.n).toBe(5);
  });
});
