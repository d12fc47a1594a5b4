import { z } from 'zod';

/**
 * DESIGN A9, A11: every audit event type and its fields, in one map (STYLE habit 19). The types of
 * `audit.record` are inferred from it, so a wrong or missing field does not compile; the JSON Schema
 * files in docs/audit-events/ are generated from it (scripts/audit-schemas.ts).
 *
 * "Never a DID, account number, token, link, PIN or full phone number" is part of the types: there
 * is no free-form string bag, identifiers have their own shapes, reasons are snake_case codes with
 * no digit runs, and a phone number can only be a `MaskedPhone` (the last four, PCI DSS 3.4.1),
 * which only `maskPhone` makes.
 */

/** `+…0101`: a phone number reduced to its last four. Branded: only `maskPhone` makes one. */
export const maskedPhone = z.string().regex(/^\+?…\d{0,4}$|^••••\d{0,4}$/).brand<'MaskedPhone'>();
export type MaskedPhone = z.infer<typeof maskedPhone>;

/** The last four digits of a phone number as `+…0101` (`+…` when there are fewer than four). */
export function maskPhone(raw: string | undefined): MaskedPhone {
  const digits = (raw ?? '').replace(/\D/g, '');
  return `+…${digits.length >= 4 ? digits.slice(-4) : ''}` as MaskedPhone;
}

/** An already-masked number from a MaskedNumber (`••••0177`). */
export function maskedFromNumber(masked: string): MaskedPhone {
  return maskedPhone.parse(masked);
}

/** A stable code (`call_gone`, `sms_failed`, `http_404`): letters and underscores, never a value. */
const code = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,47}$/)
  .refine((s) => !/\d{4}/.test(s), 'a code carries no digit run');
const callId = z.string().regex(/^[A-Za-z0-9._:@+=-]{1,128}$/);
const sessionId = z.string().regex(/^ses_[A-Za-z0-9_-]{8,128}$/);
const deviceId = z.string().regex(/^dev_[A-Za-z0-9_-]{4,128}$/);
const customerId = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/);
/** A token's id (`jti`), never the token. */
const tokenId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);
const shortName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
const isoTime = z.iso.datetime({ offset: false, precision: 3 });
const period = z.string().regex(/^\d{4}-\d{2}$/);
const locale = z.string().regex(/^[a-z]{2}(-[A-Z]{2})?$/);
const count = z.number().int().min(0);
const sessionStatus = z.enum(['pending', 'confirmed', 'expired', 'canceled', 'call_ended']);

export const CALL_OUTCOMES = ['contained', 'transferred', 'abandoned'] as const;
export const callOutcome = z.enum(CALL_OUTCOMES);
export type CallOutcome = z.infer<typeof callOutcome>;

export const ACTOR_TYPES = ['admin', 'reviewer', 'api-client', 'device'] as const;
/** Who acted over HTTP (not Twilio): PCI DSS 10.2.1 / 10.2.2 (who, from where). */
export const actor = z.strictObject({ type: z.enum(ACTOR_TYPES), id: shortName });
export type Actor = z.infer<typeof actor>;
const sourceIp = z.union([z.ipv4(), z.ipv6()]);

/** Fields an event caused by an HTTP actor carries (optional on events some actors cause, required where one always does). */
const byActor = { actor: actor.optional(), sourceIp: sourceIp.optional() };
const byActorRequired = { actor, sourceIp };

/**
 * What an audit read read: a kind, then `:` and an id or range (`call:<callId>`, `export:<from>/<to>`,
 * `verify:<from>/<to>`) or `?` and the query as asked (`calls?from=…&to=…&outcome=…`). Only the
 * characters of ids, ISO times, enums and cursors: no room for a value of another shape.
 */
const auditSubject = z.string().regex(/^[a-z_]+([:?][A-Za-z0-9._:@+=/&-]{1,700})?$/);

const onCall = { callId };
const onSession = { callId, sessionId };
const maybeSession = { callId, sessionId: sessionId.optional() };

/** Every event type → its own fields (the envelope `id`, `type`, `at` is added by the trail). */
export const EVENT_FIELDS = {
  // A call's life.
  call_started: z.strictObject({ ...onCall, maskedCaller: maskedPhone, maskedDialled: maskedPhone, provider: shortName }),
  language_selected: z.strictObject({ ...onCall, locale, via: code.optional() }),
  transfer: z.strictObject({ ...maybeSession, queue: shortName, verified: z.boolean(), reason: code.optional() }),
  call_ended: z.strictObject({
    ...maybeSession,
    outcome: callOutcome,
    durationMs: count.optional(),
    callStatus: code.optional(),
    reason: code.optional(),
    via: code.optional(),
    ...byActor,
  }),
  fail_closed: z.strictObject({ ...onCall, reason: code }),
  degraded: z.strictObject({ ...onCall, reason: code, node: shortName.optional() }),
  // Verification (A4, A5).
  session_created: z.strictObject({ ...onSession, expiresAt: isoTime, provider: shortName.optional(), clientId: shortName.optional(), ...byActor }),
  did_issued: z.strictObject({ ...onSession, ...byActor }),
  loop_iteration: z.strictObject({ ...onSession, status: sessionStatus, loop: count.optional(), via: code.optional(), ...byActor }),
  did_repeated: z.strictObject({ ...onSession }),
  canceled: z.strictObject({ ...onSession, ...byActor }),
  timeout: z.strictObject({ ...onSession }),
  reissued: z.strictObject({ ...onSession, previousSessionId: sessionId.optional(), ...byActor }),
  wrong_did: z.strictObject({ ...onSession, reason: code, deviceId, ...byActor }),
  confirmed: z.strictObject({ ...onSession, deviceId, customerId, ...byActor }),
  intercept_success: z.strictObject({ ...onSession, confirmToRedirectMs: z.number().min(0) }),
  intercept_failed: z.strictObject({ ...onSession, reason: code }),
  late_confirmation: z.strictObject({
    ...onSession,
    policy: code,
    /** `recently_verified` (the call is marked for 10 minutes) or `ignored`. */
    result: code.optional(),
    /** `confirmation` (a device's late code) or `intercept` (the call was gone after a 200 confirmed). */
    via: code.optional(),
    deviceId: deviceId.optional(),
    customerId: customerId.optional(),
    ...byActor,
  }),
  token_issued: z.strictObject({ ...onSession, jti: tokenId, expiresAt: isoTime }),
  token_rejected: z.strictObject({ ...maybeSession, reason: code, via: code.optional(), channel: code.optional(), ...byActor }),
  lockout: z.strictObject({ callId: callId.optional(), deviceId, customerId, ...byActor }),
  callback_sent: z.strictObject({ ...onSession, status: sessionStatus, attempts: count }),
  callback_failed: z.strictObject({ ...onSession, status: sessionStatus, attempts: count, reason: code }),
  // Protected actions (A6, A8).
  balance_read: z.strictObject({ ...onSession, accountIndex: z.number().int().min(1), ...byActor }),
  statement_link_issued: z.strictObject({ ...onSession, period, expiresAt: isoTime, ...byActor }),
  statement_sms_sent: z.strictObject({ ...onSession, period, to: maskedPhone, ...byActor }),
  statement_sms_refused: z.strictObject({ ...maybeSession, reason: code, limit: count.optional(), period: period.optional(), ...byActor }),
  statement_link_spent: z.strictObject({ ...onCall, period, sourceIp: sourceIp.optional() }),
  statement_link_refused: z.strictObject({ ...maybeSession, reason: code, period: period.optional(), sourceIp: sourceIp.optional() }),
  // Outside any call (A11): device events name the device and customer, audit reads their subject.
  device_enrolled: z.strictObject({ deviceId, customerId, via: code.optional(), ...byActorRequired }),
  device_revoked: z.strictObject({ deviceId, customerId: customerId.optional(), ...byActorRequired }),
  audit_viewed: z.strictObject({ subject: auditSubject, count: count.optional(), ...byActorRequired }),
  audit_exported: z.strictObject({ subject: auditSubject, count: count.optional(), ...byActorRequired }),
} as const;

export type AuditEventType = keyof typeof EVENT_FIELDS;
export const AUDIT_EVENT_TYPES = Object.keys(EVENT_FIELDS) as AuditEventType[];

/** What `audit.record(type, fields)` takes for `type`. */
export type EventFields<T extends AuditEventType> = z.output<(typeof EVENT_FIELDS)[T]>;

/** The envelope every stored event has. */
export const envelope = {
  id: z.uuid(),
  at: isoTime,
};

/** An event as the trail stores and returns it: envelope + type + its fields. */
export type AuditEventOf<T extends AuditEventType> = { id: string; type: T; at: string } & z.output<(typeof EVENT_FIELDS)[T]>;
export type AuditEvent = { [T in AuditEventType]: AuditEventOf<T> }[AuditEventType];

/** The full schema of one stored event type (for JSON Schema and tests). */
export function storedEventSchema(type: AuditEventType) {
  return EVENT_FIELDS[type].extend({ ...envelope, type: z.literal(type) });
}

/** Events that never belong to a call's timeline (A9): they carry no `callId`. */
export const CALLLESS_TYPES: ReadonlySet<AuditEventType> = new Set(['device_enrolled', 'device_revoked', 'audit_viewed', 'audit_exported']);

/**
 * ECS `event.outcome` of a type: success, failure, or unknown (it records a step, not a result).
 * A Record, so a new type is a compile error until it is placed.
 */
export const EVENT_OUTCOME: Record<AuditEventType, 'success' | 'failure' | 'unknown'> = {
  call_started: 'unknown', language_selected: 'success', transfer: 'unknown', call_ended: 'unknown', fail_closed: 'failure', degraded: 'failure',
  session_created: 'success', did_issued: 'success', loop_iteration: 'unknown', did_repeated: 'success', canceled: 'success', timeout: 'failure',
  reissued: 'success', wrong_did: 'failure', confirmed: 'success', intercept_success: 'success', intercept_failed: 'failure',
  late_confirmation: 'failure', token_issued: 'success', token_rejected: 'failure', lockout: 'failure', callback_sent: 'success',
  callback_failed: 'failure', balance_read: 'success', statement_link_issued: 'success', statement_sms_sent: 'success',
  statement_sms_refused: 'failure', statement_link_spent: 'success', statement_link_refused: 'failure', device_enrolled: 'success',
  device_revoked: 'success', audit_viewed: 'success', audit_exported: 'success',
};

/** One event's ECS outcome: its type's, except where a field says how it went (a late confirmation accepted as recently verified succeeded). */
export function eventOutcome(e: { type: string; result?: unknown }): 'success' | 'failure' | 'unknown' {
  if (e.type === 'late_confirmation') return e.result === 'recently_verified' ? 'success' : 'failure';
  return EVENT_OUTCOME[e.type as AuditEventType] ?? 'unknown';
}

/** Log-only lines (A9): a rate-limited line, never an event of the trail. */
export type LogOnlyType = 'wrong_did_unmatched' | 'confirmation_double_submit';
