import type { Logger } from '../log/logger.js';
import type { Clock } from '../shared/clock.js';
import { luaScript, type RedisClient } from '../store/client.js';
import { ttl, type Keys } from '../store/keys.js';
import type { Metrics } from './metrics.js';

/** DESIGN A9: the audit event types. None may carry an account number, DID, token, link or full phone number. */
export const AUDIT_EVENT_TYPES = [
  'session_created', 'did_issued', 'loop_iteration', 'did_repeated', 'canceled', 'timeout', 'reissued',
  'wrong_did', 'confirmed', 'intercept_success', 'intercept_failed', 'late_confirmation', 'token_issued',
  'token_rejected', 'balance_read', 'statement_link_issued', 'statement_sms_sent', 'statement_link_spent',
  'statement_link_refused', 'call_ended', 'webhook_signature_rejected', 'fail_closed',
  // Extensions (alerts and API-side events); same rules.
  'lockout', 'device_enrolled', 'device_revoked', 'callback_sent', 'callback_failed',
  'language_selected', 'statement_sms_refused',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** Extra fields are small scalars only (ids, reasons, counts, masked values). */
export type AuditDetails = Record<string, string | number | boolean | undefined>;

export interface AuditEvent extends AuditDetails {
  type: AuditEventType;
  at: string;
  callId: string;
  sessionId?: string;
}

export interface Audit {
  /** Writes the JSON log line and appends to the call's timeline; resolves once readable. */
  record(type: AuditEventType, callId: string, details?: AuditDetails & { sessionId?: string }): Promise<void>;
  /** Log-only variant for when the store itself is the thing that failed. */
  logOnly(type: AuditEventType, callId: string, details?: AuditDetails): void;
  timeline(callId: string): Promise<AuditEvent[]>;
}

/** One command instead of MULTI/RPUSH/PEXPIRE/EXEC: every verification step writes one of these. */
const APPEND = luaScript(
  'vlAuditAppend',
  1,
  `redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`,
);

export function createAudit(deps: { redis: RedisClient; keys: Keys; logger: Logger; clock: Clock; metrics: Metrics }): Audit {
  const { redis, keys, logger, clock, metrics } = deps;
  const log = logger.child({ component: 'audit' });

  const build = (type: AuditEventType, callId: string, details: AuditDetails = {}): AuditEvent => {
    const event: AuditEvent = { type, at: new Date(clock.now()).toISOString(), callId };
    for (const [k, v] of Object.entries(details)) if (v !== undefined) event[k] = v;
    return event;
  };

  return {
    async record(type, callId, details) {
      const event = build(type, callId, details);
      metrics.auditEvents.inc({ type });
      log.info({ audit: event }, `audit ${type}`);
      await APPEND(redis, [keys.audit(callId)], [stored(event), ttl.auditMs]);
    },
    logOnly(type, callId, details) {
      metrics.auditEvents.inc({ type });
      log.info({ audit: build(type, callId, details) }, `audit ${type}`);
    },
    async timeline(callId) {
      const rows = await redis.lrange(keys.audit(callId), 0, -1);
      return rows.map((r) => fromStored(r, callId));
    },
  };
}

/**
 * An event as the call's timeline keeps it: without the call id (the key is the call's) and with
 * the time as epoch ms; a long call keeps many, and the log line has the full form anyway.
 */
function stored(event: AuditEvent): string {
  const { type, at, callId: _callId, ...details } = event;
  return JSON.stringify({ type, t: Date.parse(at), ...details });
}

function fromStored(row: string, callId: string): AuditEvent {
  const { type, t, at, ...details } = JSON.parse(row) as AuditDetails & { type: AuditEventType; t?: number; at?: string };
  // `at` and `callId` are read back too: entries written before the compact form still read the same.
  return { type, at: at ?? new Date(t ?? 0).toISOString(), callId, ...details } as AuditEvent;
}
