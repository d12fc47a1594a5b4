import request from 'supertest';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../src/audit/events.js';
import { migrate } from '../src/audit/trail/schema.js';
import { postgresSql, type Sql } from '../src/audit/trail/sql.js';
import { startPostgresServer, type PostgresServer } from '../scripts/lib/postgres-server.js';
import { startRedisServer, type RedisServer } from '../scripts/lib/redis-server.js';
import { caller, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { freshAuditSql } from './support/audit-db.js';
import { enrollDevice } from './support/authenticator.js';
import { heard } from './support/twiml.js';

/**
 * Issue 14 item 2 acceptance, destructive: each story starts its own Redis or PostgreSQL. Redis
 * flushed once the outbox has drained loses nothing; PostgreSQL stopped mid-run stops no call, the
 * events wait and arrive; past the outbox's bound a balance is refused.
 */

async function timelineOf(t: TestApp, callSid: string) {
  const res = await request(t.app).get(`/admin/v1/calls/${callSid}/events`).set('Authorization', `Bearer ${t.adminKey}`);
  return { status: res.status, events: ((res.body as { events?: AuditEvent[] }).events ?? []).map((e) => ({ id: e.id, type: e.type, at: e.at })) };
}

async function agentCall(t: TestApp) {
  const call = caller(t);
  await call.dial();
  const transfer = await call.press('0');
  expect(transfer.enqueue).toMatch(/^agents/);
  await call.hangUp();
  return call.callSid;
}

async function verifiedCall(t: TestApp) {
  const device = await enrollDevice(t);
  const call = caller(t);
  await call.dial();
  const did = spokenCode(await call.press('1')) ?? '';
  expect((await device.confirm(did)).status).toBe(200);
  const url = t.twilioFake.callUpdates().find((u) => u.path.endsWith(`/Calls/${call.callSid}.json`))?.form.Url ?? '';
  return { call, url };
}

describe('Redis flushed after the outbox drained', () => {
  let redis: RedisServer;
  let sql: Sql;
  let t: TestApp;
  beforeAll(async () => {
    redis = await startRedisServer();
    sql = await freshAuditSql();
    t = await startTestApp({ redisUrl: redis.url, overrides: { auditSql: sql } });
  });
  afterAll(async () => {
    await t.close();
    await sql.close();
    await redis.stop();
  });

  it('when every event has reached PostgreSQL and Redis loses everything, then every timeline, the search and the export are unchanged', async () => {
    const calls = [await agentCall(t), await agentCall(t)];
    const { call, url } = await verifiedCall(t);
    await call.fetch(url);
    await call.hangUp();
    calls.push(call.callSid);
    await t.built.deps.audit.drainNow();

    const before = await Promise.all(calls.map((c) => timelineOf(t, c)));
    const searchBefore = await t.built.deps.audit.searchCalls({});
    const exportBefore: string[] = [];
    const range = { from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) };
    for await (const e of t.built.deps.audit.exportEvents(range)) exportBefore.push(e.id);
    expect(before.every((b) => b.status === 200 && b.events.length >= 3)).toBe(true);

    const admin = new Redis(redis.url);
    expect(await admin.flushall()).toBe('OK');
    expect(await admin.dbsize()).toBe(0);
    admin.disconnect();

    expect(await Promise.all(calls.map((c) => timelineOf(t, c)))).toEqual(before);
    expect(await t.built.deps.audit.searchCalls({})).toEqual(searchBefore);
    const exportAfter: string[] = [];
    for await (const e of t.built.deps.audit.exportEvents(range)) exportAfter.push(e.id);
    // The timeline reads above are themselves audit events (audit_viewed), so the export may only grow.
    expect(exportAfter.slice(0, exportBefore.length)).toEqual(exportBefore);
  });
});

describe('PostgreSQL stopped mid-run', () => {
  let postgres: PostgresServer;
  let sql: Sql;
  let t: TestApp;
  const LIMIT = 8;
  beforeAll(async () => {
    postgres = await startPostgresServer();
    sql = postgresSql(postgres.url, { max: 2 });
    await migrate(sql);
    t = await startTestApp({ overrides: { auditSql: sql, auditOutboxLimit: LIMIT } });
  });
  afterAll(async () => {
    await t.close();
    await sql.close();
    await postgres.destroy();
  });

  const inDatabase = async (callSid: string) => (await sql.query<{ type: string }>('SELECT type FROM audit_events WHERE call_id = $1 ORDER BY at, seq', [callSid])).map((r) => r.type);

  it('when PostgreSQL goes away, then calls go on, events wait in the outbox, /readyz names the trail lagging, a balance past the bound is refused, and everything arrives once it is back', async () => {
    const before = await agentCall(t);
    await t.built.deps.audit.drainNow();
    expect(await inDatabase(before)).toEqual(['call_started', 'transfer', 'call_ended']);

    await postgres.stop();
    const during = await agentCall(t);
    await t.built.deps.audit.drainNow();
    const ready = await request(t.app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.auditTrail).toBe('lagging');
    expect(t.logs.some((l) => typeof l.msg === 'string' && l.msg.includes('AUDIT_DATABASE_URL') && l.msg.includes(`127.0.0.1:${postgres.port}`))).toBe(true);
    expect(t.logs.some((l) => l['call.id'] === during && l['event.action'] === 'call_ended')).toBe(true);

    // Past the bound: the verified caller asks for the balance and is told it cannot be given now.
    const { call, url } = await verifiedCall(t);
    await t.built.deps.audit.drainNow();
    expect(t.built.deps.audit.canAudit()).toBe(false);
    const refused = await call.fetch(url);
    expect(heard(refused)).toMatch(/can't get your balance right now/);
    expect(heard(refused)).not.toMatch(/available balance is/);
    await call.hangUp();

    await postgres.start();
    const deadline = Date.now() + 10_000;
    while ((await inDatabase(during)).length < 3 && Date.now() < deadline) await t.built.deps.audit.drainNow();
    expect(await inDatabase(during)).toEqual(['call_started', 'transfer', 'call_ended']);
    expect(await inDatabase(call.callSid)).toEqual(expect.arrayContaining(['call_started', 'confirmed', 'call_ended']));
    expect(await inDatabase(call.callSid)).not.toContain('balance_read');
    expect(t.built.deps.audit.canAudit()).toBe(true);
    expect((await request(t.app).get('/readyz')).body.checks.auditTrail).toBe('ok');
    const metrics = await request(t.app).get('/metrics');
    expect(metrics.text).toMatch(/vaultline_audit_outbox_events 0/);
  });
});
