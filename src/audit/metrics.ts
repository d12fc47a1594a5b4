import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics, one registry per app instance (no global registry, so tests stay apart). */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  return {
    registry,
    sessionsCreated: counter('vaultline_sessions_created_total', 'Verification sessions created', ['channel']),
    sessionOutcomes: counter('vaultline_session_outcomes_total', 'Verification sessions reaching a terminal state', ['status']),
    wrongDids: counter('vaultline_wrong_dids_total', 'Confirmations with a code that matched no live session'),
    lockouts: counter('vaultline_lockouts_total', 'Confirmations refused because the device or customer is locked'),
    confirmationsRefused: counter('vaultline_confirmations_refused_total', 'Confirmations refused', ['reason']),
    interceptFailures: counter('vaultline_intercept_failures_total', 'Live-call redirects that failed', ['reason']),
    signatureRejections: counter('vaultline_webhook_signature_rejections_total', 'Webhooks refused for a bad signature'),
    webhookRefusals: counter('vaultline_webhook_refusals_total', 'Webhooks refused before their signature held (413 too large, 400 not a Twilio form, 403 signature)', ['status', 'reason']),
    failClosed: counter('vaultline_fail_closed_total', 'Calls routed to an agent because a dependency failed'),
    degradedTurns: counter(
      'vaultline_degraded_turns_total',
      'Caller turns served without the store (FAIL_MODE=open-low-risk): self_service kept the caller on a low-risk node, agent sent them to the queue unverified',
      ['outcome'],
    ),
    auditEvents: counter('vaultline_audit_events_total', 'Audit events recorded', ['type']),
    auditOutboxEvents: new Gauge({ name: 'vaultline_audit_outbox_events', help: 'Audit events waiting in the store outbox for the trail database', registers: [registry] }),
    auditOutboxLag: new Gauge({
      name: 'vaultline_audit_outbox_lag_seconds',
      help: 'Age of the oldest audit event waiting in the outbox (0 when empty): how far the trail database is behind',
      registers: [registry],
    }),
    auditTrailWrites: counter('vaultline_audit_trail_events_written_total', 'Audit events written to the trail database', ['path']),
    auditDirectDropped: counter('vaultline_audit_direct_dropped_total', 'Store-outage audit events dropped because the in-process buffer was full'),
    confirmToRedirect: new Histogram({
      name: 'vaultline_confirm_to_redirect_ms',
      help: 'Milliseconds from a confirmed session to the live call redirect accepted by the telephony provider',
      buckets: [1, 2, 5, 10, 20, 50, 100, 250, 500, 1000, 2500, 5000],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
