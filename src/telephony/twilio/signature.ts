import type { RequestHandler } from 'express';
import type { Audit } from '../../audit/audit.js';
import type { Metrics } from '../../audit/metrics.js';
import { validTwilioSignature } from './signature-check.js';

/**
 * Checks `X-Twilio-Signature` before anything else runs (STYLE habit 7). The URL is always
 * PUBLIC_BASE_URL + the request path and query — never Host or X-Forwarded-* — so a spoofed header
 * cannot make a forged request verify. A refusal does no store I/O (only a log line and a metric),
 * so forged traffic costs a hash and nothing else.
 */
export function twilioSignature(deps: { authToken: string; publicBaseUrl: string; audit: Audit; metrics: Metrics }): RequestHandler {
  return (req, res, next) => {
    const signature = req.header('x-twilio-signature');
    const params = (req.body ?? {}) as Record<string, string>;
    const url = deps.publicBaseUrl + req.originalUrl;
    // twilio.validateRequest's verdict, with each distinct URL spelling hashed once (signature-check.ts).
    if (signature && validTwilioSignature(deps.authToken, signature, url, params)) {
      next();
      return;
    }
    deps.metrics.signatureRejections.inc();
    const callId = typeof params.CallSid === 'string' ? params.CallSid.slice(0, 64) : 'unknown';
    deps.audit.logOnly('webhook_signature_rejected', callId, { path: req.path, reason: signature ? 'mismatch' : 'missing' });
    res.status(403).type('text/plain').send('Forbidden');
  };
}
