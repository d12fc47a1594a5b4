import type { Metrics } from '../../audit/metrics.js';
import type { Logger } from '../../log/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { Refuse } from './form-body.js';

/** One warning line per this long at most, whatever the flood (DESIGN A3: a rate-limited line). */
export const REFUSAL_LOG_INTERVAL_MS = 10_000;

const TEXT = { 400: 'Bad Request', 403: 'Forbidden', 413: 'Payload Too Large' } as const;

/**
 * Answers a webhook refused before its signature held (400, 403, 413): plain text, never TwiML, no
 * store I/O and no audit event, so a flood from anyone costs a hash at most. Each refusal counts in
 * `/metrics`; the log gets one `webhook_signature_rejected` line per interval, carrying how many
 * refusals it stands for, so a flood cannot become an alert flood.
 */
export function createWebhookRefusals(deps: { metrics: Metrics; logger: Logger; clock: Clock; intervalMs?: number }): Refuse {
  const log = deps.logger.child({ component: 'twilio-webhooks' });
  const interval = deps.intervalMs ?? REFUSAL_LOG_INTERVAL_MS;
  let lastLineAt = Number.NEGATIVE_INFINITY;
  let unlogged = 0;
  return (req, res, status, reason) => {
    deps.metrics.webhookRefusals.inc({ status: String(status), reason });
    if (status === 403) deps.metrics.signatureRejections.inc();
    unlogged += 1;
    const now = deps.clock.now();
    if (now - lastLineAt >= interval) {
      // The path only: everything else in an unsigned request is the sender's to choose.
      log.warn({ event: 'webhook_signature_rejected', status, reason, path: req.path, refusals: unlogged }, 'webhook_signature_rejected');
      lastLineAt = now;
      unlogged = 0;
    }
    // The body may be unread (a 413 before the end): close rather than read on for a client that keeps sending.
    if (status === 413) res.setHeader('Connection', 'close');
    res.status(status).type('text/plain').send(TEXT[status]);
  };
}
