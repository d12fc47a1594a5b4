import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import type { Logger } from '../log/logger.js';
import { AppError, StoreUnavailableError, statusOf } from '../shared/errors.js';

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
    if (err instanceof StoreUnavailableError || isStoreError(err)) {
      logger.error({ err }, 'store unavailable');
      res.status(503).json({ error: 'unavailable', message: 'The service is temporarily unavailable. Try again shortly.' });
      return;
    }
    logger.error({ err }, 'unhandled error on a JSON route');
    res.status(500).json({ error: 'internal', message: 'Something went wrong on our side.' });
  };
}

/** ioredis errors when the store is down or slow: fail closed, never a stack trace. */
export function isStoreError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    /Command timed out|Connection is closed|enableOfflineQueue|ECONNREFUSED|Stream isn't writeable|ClusterAllFailedError|Failed to refresh slots/i.test(err.message)
  );
}

export const notFoundJson: RequestHandler = (_req, res) => {
  res.status(404).json({ error: 'not_found', message: 'No such route.' });
};
