import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Audit } from '../src/audit/audit.js';
import { AUDIT_EVENT_TYPES, EVENT_FIELDS, maskPhone } from '../src/audit/events.js';
import { auditEventSchemaFiles, SCHEMA_DIR } from '../src/audit/json-schema.js';

/** Issue 14 items 1 and 7: the event map is the one source of the types, the runtime check and the published JSON Schema. */

describe('the audit event map', () => {
  it('when the JSON Schema files are generated from the zod map, then the committed docs/audit-events files are exactly those (npm run audit:schemas)', () => {
    const expected = auditEventSchemaFiles();
    const committed = readdirSync(SCHEMA_DIR).filter((n) => n.endsWith('.schema.json')).sort();
    expect(committed).toEqual([...expected.keys()].sort());
    for (const [name, content] of expected) expect(readFileSync(join(SCHEMA_DIR, name), 'utf8'), name).toBe(content);
  });

  it('when docs/audit-events.md is read, then it documents every event type', () => {
    const doc = readFileSync('docs/audit-events.md', 'utf8');
    for (const type of AUDIT_EVENT_TYPES) expect(doc, type).toContain(`\`${type}\``);
  });

  it('when an event carries a full phone number, a code in its reason, or a field its type does not have, then the map refuses it at run time', () => {
    const ok = { callId: 'CA1', maskedCaller: maskPhone('+14155550101'), maskedDialled: maskPhone('+18005550199'), provider: 'twilio' };
    expect(EVENT_FIELDS.call_started.safeParse(ok).success).toBe(true);
    expect(ok.maskedCaller).toBe('+…0101');
    expect(EVENT_FIELDS.call_started.safeParse({ ...ok, maskedCaller: '+14155550101' }).success).toBe(false);
    expect(EVENT_FIELDS.fail_closed.safeParse({ callId: 'CA1', reason: 'code_123456' }).success).toBe(false);
    expect(EVENT_FIELDS.fail_closed.safeParse({ callId: 'CA1', reason: 'internal_error', did: '123456' }).success).toBe(false);
    expect(EVENT_FIELDS.device_enrolled.safeParse({ deviceId: 'dev_abcdef', customerId: 'cust_001' }).success).toBe(false);
  });

  it('when record is called with a wrong or missing field, then it does not compile (npm run typecheck holds these @ts-expect-error lines)', () => {
    const typed = (audit: Audit) => [
      // @ts-expect-error: call_ended needs its outcome.
      audit.record('call_ended', { callId: 'CA1' }),
      // @ts-expect-error: a phone number is a MaskedPhone, which only maskPhone makes.
      audit.record('call_started', { callId: 'CA1', maskedCaller: '+14155550101', maskedDialled: maskPhone('+1'), provider: 'twilio' }),
      // @ts-expect-error: no free-form fields.
      audit.record('fail_closed', { callId: 'CA1', reason: 'internal_error', digits: '123456' }),
      // @ts-expect-error: device events name who acted, from where.
      audit.record('device_revoked', { deviceId: 'dev_abcdef' }),
    ];
    expect(typeof typed).toBe('function');
  });
});
