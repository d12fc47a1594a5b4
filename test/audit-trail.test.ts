import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../src/audit/events.js';
import { caller, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { auditSchemaValidator } from './support/audit-schemas.js';
import { enrollDevice } from './support/authenticator.js';

/**
 * Issue 14 acceptance (items 1, 2, 7): whole calls of every kind leave the right timeline in the
 * durable trail (real Redis, real PostgreSQL), each event valid against its published JSON Schema,
 * each also one ECS log line, and each call's outcome right.
 */

let t: TestApp;
const valid = auditSchemaValidator();

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

async function timeline(callSid: string): Promise<{ status: number; events: AuditEvent[] }> {
  const res = await request(t.app).get(`/admin/v1/calls/${callSid}/events`).set('Authorization', `Bearer ${t.adminKey}`);
  return { status: res.status, events: (res.body as { events?: AuditEvent[] }).events ?? [] };
}

/** Drains the outbox into PostgreSQL, then reads the timeline (now from the database alone). */
async function drainedTimeline(callSid: string): Promise<AuditEvent[]> {
  await t.built.deps.audit.drainNow();
  const { status, events } = await timeline(callSid);
  expect(status).toBe(200);
  for (const e of events) expect(valid(e), `${e.type} ${JSON.stringify(e)}`).toEqual([]);
  return events;
}

const types = (events: readonly AuditEvent[]) => events.map((e) => e.type);
const ended = (events: readonly AuditEvent[]) => events.find((e) => e.type === 'call_ended') as (AuditEvent & { outcome: string; durationMs?: number }) | undefined;

async function verifiedCall(option: '1' | '2') {
  const device = await enrollDevice(t);
  const call = caller(t, { from: '+14155550999' });
  await call.dial();
  const did = spokenCode(await call.press(option)) ?? '';
  expect((await device.confirm(did)).status).toBe(200);
  const update = t.twilioFake.callUpdates().find((u) => u.path.endsWith(`/Calls/${call.callSid}.json`));
  const verified = await call.fetch(update?.form.Url ?? '');
  return { call, verified };
}

describe('whole calls in the durable trail', () => {
  it('when a verified caller hears the balance and hangs up, then the timeline runs from call_started to call_ended contained, with the numbers masked', async () => {
    const { call } = await verifiedCall('1');
    expect((await call.hangUp()).status).toBe(200);
    const events = await drainedTimeline(call.callSid);
    expect(types(events)).toEqual(['call_started', 'session_created', 'did_issued', 'confirmed', 'token_issued', 'intercept_success', 'loop_iteration', 'balance_read', 'call_ended']);
    expect(events[0]).toMatchObject({ type: 'call_started', maskedCaller: '+…0999', maskedDialled: '+…0199', provider: 'twilio' });
    expect(ended(events)).toMatchObject({ outcome: 'contained', durationMs: 42_000 });
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(JSON.stringify(events)).not.toMatch(/4155550999|8005550199/);
  });

  it('when a verified caller has the statement sent, then statement_sms_sent names the mobile by its last four and the call is contained', async () => {
    const { call } = await verifiedCall('2');
    await call.press('1');
    await call.hangUp();
    const events = await drainedTimeline(call.callSid);
    expect(types(events)).toEqual(expect.arrayContaining(['statement_link_issued', 'statement_sms_sent', 'call_ended']));
    expect(events.find((e) => e.type === 'statement_sms_sent')).toMatchObject({ to: '••••0101', period: '2026-10' });
    expect(ended(events)?.outcome).toBe('contained');
  });

  it('when the app confirms a wrong code and the caller then hangs up waiting, then the code is refused and the call is abandoned', async () => {
    const device = await enrollDevice(t);
    const call = caller(t);
    await call.dial();
    const did = spokenCode(await call.press('1')) ?? '';
    const wrong = did === '000000' ? '111111' : '000000';
    expect((await device.confirm(wrong)).status).toBe(422);
    await call.hangUp();
    const events = await drainedTimeline(call.callSid);
    expect(types(events)).toEqual(['call_started', 'session_created', 'did_issued', 'call_ended']);
    expect(ended(events)?.outcome).toBe('abandoned');
    expect(t.logs.some((l) => l['event.action'] === 'wrong_did_unmatched')).toBe(true);
  });

  it('when the caller cancels the code with 0 and hangs up at the menu, then canceled is in the timeline and the call is abandoned', async () => {
    const call = caller(t);
    await call.dial();
    await call.press('1');
    await call.press('0');
    await call.hangUp();
    const events = await drainedTimeline(call.callSid);
    expect(types(events)).toEqual(['call_started', 'session_created', 'did_issued', 'canceled', 'call_ended']);
    expect(ended(events)?.outcome).toBe('abandoned');
  });

  it('when the caller asks for an agent, then transfer names the queue, unverified, and the call is transferred', async () => {
    const call = caller(t);
    await call.dial();
    await call.press('0');
    await call.hangUp();
    const events = await drainedTimeline(call.callSid);
    expect(types(events)).toEqual(['call_started', 'transfer', 'call_ended']);
    expect(events[1]).toMatchObject({ queue: 'agents', verified: false });
    expect(ended(events)?.outcome).toBe('transferred');
  });

  it('when the caller stays silent until the goodbye, then the IVR ended the call and it is contained', async () => {
    const call = caller(t);
    await call.dial();
    for (let i = 0; i < 3 && call.last.gather; i++) await call.silence();
    expect(call.last.hangup).toBe(true);
    await call.hangUp();
    const events = await drainedTimeline(call.callSid);
    expect(types(events)).toEqual(['call_started', 'call_ended']);
    expect(ended(events)?.outcome).toBe('contained');
  });

  it('when the caller hangs up in the wait loop, then the session ends with the call and the call is abandoned', async () => {
    const call = caller(t);
    await call.dial();
    await call.press('1');
    await call.silence();
    await call.hangUp();
    const events = await drainedTimeline(call.callSid);
    expect(types(events)).toEqual(['call_started', 'session_created', 'did_issued', 'loop_iteration', 'call_ended']);
    expect(ended(events)).toMatchObject({ outcome: 'abandoned', sessionId: (events[1] as { sessionId?: string }).sessionId });
  });

  it('when a webhook is forged, then it is refused, the call is never seen (404) and only a log line says so', async () => {
    const callSid = 'CA' + 'f'.repeat(32);
    const forged = await request(t.app).post('/twilio/voice').type('form').set('X-Twilio-Signature', 'forged').send({ CallSid: callSid, From: '+14155550101' });
    expect(forged.status).toBe(403);
    await t.built.deps.audit.drainNow();
    expect((await timeline(callSid)).status).toBe(404);
    // The refusal's line is rate-limited (src/telephony/twilio/refusals.ts): no audit event, no store write.
    expect(t.logs.some((l) => l.event === 'webhook_signature_rejected')).toBe(true);
    expect(t.logs.some((l) => l['event.dataset'] === 'vaultline.audit' && l['call.id'] === callSid)).toBe(false);
  });

  it('when events are written, then each is also one ECS log line with its id, type, outcome, call, session, actor and address', async () => {
    const { call } = await verifiedCall('1');
    await call.hangUp();
    const events = await drainedTimeline(call.callSid);
    const lines = t.logs.filter((l) => l['call.id'] === call.callSid && l['event.dataset'] === 'vaultline.audit');
    expect(lines.map((l) => l['event.id'])).toEqual(events.map((e) => e.id));
    for (const [i, l] of lines.entries()) {
      const e = events[i] as AuditEvent & { sessionId?: string };
      expect(l).toMatchObject({ '@timestamp': e.at, 'log.level': 'info', 'event.action': e.type, 'event.kind': 'event' });
      expect(['success', 'failure', 'unknown']).toContain(l['event.outcome']);
      if (e.sessionId) expect(l['session.id']).toBe(e.sessionId);
      expect(l.audit).toEqual(e);
    }
    const enrol = t.logs.find((l) => l['event.action'] === 'device_enrolled');
    expect(enrol).toMatchObject({ 'actor.type': 'admin', 'actor.id': 'admin', 'source.ip': expect.stringMatching(/^(127\.0\.0\.1|::1)$/) });
    expect(enrol?.['call.id']).toBeUndefined();
    expect(valid(enrol?.audit as { type: string })).toEqual([]);
  });

  it('when calls are in the trail, then searchCalls finds them newest first by outcome, verified and customer, page by page', async () => {
    await t.built.deps.audit.drainNow();
    const audit = t.built.deps.audit;
    const all = await audit.searchCalls({ limit: 1000 });
    expect(all.calls.length).toBeGreaterThanOrEqual(8);
    const started = all.calls.map((c) => c.startedAt);
    expect([...started].sort().reverse()).toEqual(started);
    const verified = await audit.searchCalls({ verified: true, customerId: 'cust_001' });
    expect(verified.calls.length).toBeGreaterThanOrEqual(3);
    for (const c of verified.calls) expect(c).toMatchObject({ verified: true, customerId: 'cust_001', outcome: 'contained', maskedCaller: '+…0999' });
    const transferred = await audit.searchCalls({ outcome: 'transferred' });
    expect(transferred.calls.map((c) => c.outcome)).toEqual(transferred.calls.map(() => 'transferred'));
    const pages: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await audit.searchCalls({ limit: 3, ...(cursor ? { cursor } : {}) });
      pages.push(...page.calls.map((c) => c.callId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(pages).toEqual(all.calls.map((c) => c.callId));
    await expect(audit.searchCalls({ cursor: 'not-ours' })).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('when the events of a range are exported, then they come oldest first, each once, the same as the timelines hold', async () => {
    await t.built.deps.audit.drainNow();
    const exported: AuditEvent[] = [];
    for await (const e of t.built.deps.audit.exportEvents({ from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) })) exported.push(e);
    expect(exported.length).toBeGreaterThan(30);
    const ats = exported.map((e) => e.at);
    expect([...ats].sort()).toEqual(ats);
    expect(new Set(exported.map((e) => e.id)).size).toBe(exported.length);
    for (const e of exported) expect(valid(e)).toEqual([]);
  });
});
