import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import type { Logger } from '../log/logger.js';
import { AppError, isStoreError, statusOf } from '../shared/errors.js';

/**
 * The one error handler of the JSON routes (STYLE habit 8): maps an error code to its status and
 * answers `{ error, message }` with a safe message. Unknown errors are logged and answered 500
 * without their text.
 */
export function jsonErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    if (res.headersSent) return;
    if (err instanceof AppError) {
      if (err.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(Math.max(1, Math.ceil(err.retryAfterSeconds))));
      res.status(statusOf[err.code]).json({ error: err.code, message: err.message });
      return;
    }
    if (err instanceof z.ZodError) {
      const where = err.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      res.status(400).json({ error: 'bad_request', message: `Invalid request: ${where}`.slice(0, 1000) });
      return;
    }
    // body-parser errors (malformed JSON, too large) carry a status and a type.
    const status = typeof err === 'object' && err !== null && 'status' in err ? Number((err as { status: unknown }).status) : 0;
    if (status === 400 || status === 415) {
      res.status(400).json({ error: 'bad_request', message: 'The request body could not be read.' });
      return;
    }
    if (status === 413) {
      res.status(413).json({ error: 'too_large', message: 'The request body is too large.' });
      return;
    }
    if (isStoreError(err)) {
      // The outage itself is logged once by the store client; a line per refused request would flood.
      logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'store unavailable: answered 503');
      res.setHeader('Retry-After', '1');
      res.status(503).json({ error: 'store_unavailable', message: 'The service is temporarily unavailable. Try again shortly.' });
      return;
    }
    logger.error({ err }, 'unhandled error on a JSON route');
    res.status(500).json({ error: 'internal', message: 'Something went wrong on our side.' });
  };
}

/** Kept here too: the webhooks' error handler imports it from this module. */
export { isStoreError };

export const notFoundJson: RequestHandler = (_req, res) => {
  res.status(404).json({ error: 'not_found', message: 'No such route.' });
};
