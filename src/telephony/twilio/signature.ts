import type { RequestHandler } from 'express';
import { inputParams, signedParams, type Refuse, type TwilioForm } from './form-body.js';
import { validTwilioSignature } from './signature-check.js';

/**
 * Checks `X-Twilio-Signature` before anything else runs (STYLE habit 7). The URL is always
 * PUBLIC_BASE_URL + the request path and query — never Host or X-Forwarded-* (nor `trust proxy`) —
 * so a spoofed header cannot make a forged request verify. A refusal does no store I/O (only a
 * metric and a rate-limited log line), so forged traffic costs a hash and nothing else. Once the
 * signature holds, `req.body` becomes the form as the webhooks read it (one string per field).
 */
export function twilioSignature(deps: { authToken: string; publicBaseUrl: string; refuse: Refuse }): RequestHandler {
  return (req, res, next) => {
    const form = res.locals.twilioForm as TwilioForm;
    const signature = req.header('x-twilio-signature');
    const url = deps.publicBaseUrl + req.originalUrl;
    // twilio.validateRequest's verdict, with each distinct URL spelling hashed once (signature-check.ts).
    if (signature && validTwilioSignature(deps.authToken, signature, url, signedParams(form))) {
      req.body = inputParams(form);
      next();
      return;
    }
    deps.refuse(req, res, 403, signature ? 'mismatch' : 'missing');
  };
}
