import { eventOutcome, type AuditEvent, type AuditEventType } from '../audit/events.js';

/** One line of a call's timeline as the console shows it: no raw JSON for a reviewer to read. */
export interface TimelineRow {
  id: string;
  at: string;
  type: AuditEventType;
  event: string;
  outcome: string;
  actor: string;
  /** The event's other fields, `name: value`. Events are masked by their types (events.ts), so these are too. */
  details: string;
}

/** A Record, so a new event type is a compile error until it has a label. */
const LABELS: Record<AuditEventType, string> = {
  call_started: 'Call started',
  language_selected: 'Language selected',
  transfer: 'Transferred to a queue',
  call_ended: 'Call ended',
  fail_closed: 'Refused (fail closed)',
  degraded: 'Degraded mode',
  session_created: 'Verification session created',
  did_issued: 'Code issued',
  loop_iteration: 'Waiting for the code',
  did_repeated: 'Code repeated',
  canceled: 'Verification canceled',
  timeout: 'Verification timed out',
  reissued: 'Code reissued',
  wrong_did: 'Wrong code',
  confirmed: 'Code confirmed',
  intercept_success: 'Call redirected (verified)',
  intercept_failed: 'Redirect failed',
  late_confirmation: 'Late confirmation',
  token_issued: 'Call token issued',
  token_rejected: 'Call token refused',
  lockout: 'Locked out',
  callback_sent: 'Callback sent',
  callback_failed: 'Callback failed',
  balance_read: 'Balance read',
  statement_link_issued: 'Statement link issued',
  statement_sms_sent: 'Statement SMS sent',
  statement_sms_refused: 'Statement SMS refused',
  statement_link_spent: 'Statement downloaded',
  statement_link_refused: 'Statement link refused',
  device_enrolled: 'Device enrolled',
  device_revoked: 'Device revoked',
  audit_viewed: 'Audit trail read',
  audit_exported: 'Audit trail exported',
};

/** Shown in their own columns (or the call's header), not among the details. */
const COLUMNS = new Set(['id', 'type', 'at', 'callId', 'actor', 'outcome']);

export function timelineRows(events: readonly AuditEvent[]): TimelineRow[] {
  return events.map((e) => {
    const fields = e as unknown as Record<string, unknown>;
    const actor = fields.actor as { type: string; id: string } | undefined;
    const details = Object.entries(fields)
      .filter(([k, v]) => !COLUMNS.has(k) && v !== undefined)
      .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' · ');
    return {
      id: e.id,
      at: e.at,
      type: e.type,
      event: LABELS[e.type] ?? e.type,
      // A call's end carries its outcome (contained, transferred, abandoned); any other event its ECS one.
      outcome: typeof fields.outcome === 'string' ? fields.outcome : eventOutcome(e),
      // Only events an HTTP caller other than Twilio caused name one (A9); the rest show none rather than a guess.
      actor: actor ? (actor.type === actor.id ? actor.type : `${actor.type} ${actor.id}`) : '—',
      details,
    };
  });
}
