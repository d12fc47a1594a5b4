import { randomUUID } from 'node:crypto';
import { CALL_OUTCOMES, type AuditEvent, type CallOutcome } from '../../src/audit/events.js';
import { macKey } from '../../src/audit/trail/chain.js';
import type { Sql } from '../../src/audit/trail/sql.js';
import { createTrailWriter } from '../../src/audit/trail/writer.js';
import { TEST_DATA_SECRET } from './audit-db.js';

/**
 * Many calls in the trail quickly: events made as the app makes them (the same shapes, masked numbers)
 * and appended by the app's own trail writer (MAC chain and all), in batches, instead of a thousand
 * whole calls over HTTP. Tests that need whole calls make some of those too.
 */

/** What seeded call `i` is: every third outcome, every fourth verified, by one of five customers. */
export interface SeededCall {
  callId: string;
  startedAt: string;
  outcome: CallOutcome;
  verified: boolean;
  customerId?: string;
}

export function seededCall(day: string, i: number): SeededCall {
  const verified = i % 4 === 0;
  return {
    callId: `CA-seed-${day}-${String(i).padStart(5, '0')}`,
    // One a minute from midnight UTC.
    startedAt: new Date(Date.parse(`${day}T00:00:00.000Z`) + i * 60_000).toISOString(),
    outcome: CALL_OUTCOMES[i % 3] as CallOutcome,
    verified,
    ...(verified ? { customerId: `cust_s${i % 5}` } : {}),
  };
}

const later = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

function eventsOf(c: SeededCall, i: number): AuditEvent[] {
  const sessionId = `ses_seed${String(i).padStart(8, '0')}`;
  const events: AuditEvent[] = [
    { id: randomUUID(), type: 'call_started', at: c.startedAt, callId: c.callId, maskedCaller: `+…${String(1000 + (i % 9000)).slice(-4)}`, maskedDialled: '+…0199', provider: 'twilio' } as AuditEvent,
  ];
  if (c.customerId) {
    events.push({ id: randomUUID(), type: 'confirmed', at: later(c.startedAt, 10_000), callId: c.callId, sessionId, deviceId: `dev_seed${i}`, customerId: c.customerId } as AuditEvent);
  }
  events.push({ id: randomUUID(), type: 'call_ended', at: later(c.startedAt, 30_000), callId: c.callId, outcome: c.outcome, durationMs: 30_000 } as AuditEvent);
  return events;
}

/** The MACs are keyed from the DATA_SECRET of the app that will read them (its verify checks them). */
async function appendInBatches(sql: Sql, events: AuditEvent[], batch: number, dataSecret: string | Buffer): Promise<void> {
  const write = createTrailWriter({ sql, key: macKey(dataSecret) });
  for (let i = 0; i < events.length; i += batch) await write(events.slice(i, i + batch));
}

/** `count` calls on `day` (UTC), appended by the trail writer; returns what each one is. */
export async function seedCalls(sql: Sql, day: string, count: number, dataSecret: string | Buffer = TEST_DATA_SECRET): Promise<SeededCall[]> {
  const calls = Array.from({ length: count }, (_, i) => seededCall(day, i));
  await appendInBatches(sql, calls.flatMap((c, i) => eventsOf(c, i)), 3000, dataSecret);
  return calls;
}

/** `count` events on `day`, half a second apart from midnight UTC (100,000 fit in one day): for the export's size. */
export async function seedEvents(sql: Sql, day: string, count: number, dataSecret: string | Buffer = TEST_DATA_SECRET): Promise<void> {
  const start = Date.parse(`${day}T00:00:00.000Z`);
  const events = Array.from(
    { length: count },
    (_, i) =>
      ({
        id: randomUUID(),
        type: 'call_started',
        at: new Date(start + i * 500).toISOString(),
        callId: `CA-bulk-${day}-${String(i).padStart(6, '0')}`,
        maskedCaller: `+…${String(1000 + (i % 9000)).slice(-4)}`,
        maskedDialled: '+…0199',
        provider: 'twilio',
      }) as AuditEvent,
  );
  // 9 bind parameters a row: 5,000 rows stay well under PostgreSQL's 65,535.
  await appendInBatches(sql, events, 5000, dataSecret);
}
