import type { AuditEvent, LogOnlyType } from './events.js';
import { eventOutcome } from './events.js';

/**
 * DESIGN A11 / issue 14 item 7: an audit event as one JSON log line a SIEM maps without reverse
 * engineering: stable top-level Elastic Common Schema names, flat and dotted as ECS loggers write
 * them (`@timestamp`, `log.level` as text, `event.*`, `call.id`, `session.id`, `actor.*`,
 * `source.ip`), and the event itself under `audit` (the same object the trail stores).
 * pino's own `time`/`level` stay beside them for the app's other tooling.
 */
export function ecsFields(event: AuditEvent): Record<string, unknown> {
  const e = event as AuditEvent & { callId?: string; sessionId?: string; actor?: { type: string; id: string }; sourceIp?: string };
  return {
    '@timestamp': e.at,
    'log.level': 'info',
    'event.kind': 'event',
    'event.dataset': 'vaultline.audit',
    'event.action': e.type,
    'event.outcome': eventOutcome(e),
    'event.id': e.id,
    ...(e.callId ? { 'call.id': e.callId } : {}),
    ...(e.sessionId ? { 'session.id': e.sessionId } : {}),
    ...(e.actor ? { 'actor.type': e.actor.type, 'actor.id': e.actor.id } : {}),
    ...(e.sourceIp ? { 'source.ip': e.sourceIp } : {}),
    audit: event,
  };
}

/** A log-only line (A9: rate-limited, never in the trail), with the same ECS names. */
export function ecsLogOnly(type: LogOnlyType, at: string, details: Record<string, string | undefined>): Record<string, unknown> {
  const callId = details.callId;
  const audit: Record<string, string> = { type, at };
  for (const [k, v] of Object.entries(details)) if (v !== undefined) audit[k] = v;
  return {
    '@timestamp': at,
    'log.level': 'info',
    'event.kind': 'alert',
    'event.dataset': 'vaultline.audit',
    'event.action': type,
    'event.outcome': 'failure',
    ...(callId ? { 'call.id': callId } : {}),
    ...(details.sourceIp ? { 'source.ip': details.sourceIp } : {}),
    audit,
  };
}
