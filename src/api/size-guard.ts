import type { RequestHandler } from 'express';
import type { Logger } from '../log/logger.js';

/** NICE CXone's REST action refuses answers from 32 KB up (A5); every answer of this API stays below. */
export const MAX_RESPONSE_BYTES = 32 * 1024;

/**
 * Checks every JSON answer before it leaves. A body this large is a bug on our side (the shapes are
 * small and bounded), so the client gets a safe 500 instead of a body its platform would choke on,
 * and the log says where.
 */
export function responseSizeGuard(logger: Logger, maxBytes = MAX_RESPONSE_BYTES): RequestHandler {
  const log = logger.child({ component: 'api-size-guard' });
  return (req, res, next) => {
    const send = res.json.bind(res);
    res.json = (body: unknown) => {
      const bytes = Buffer.byteLength(JSON.stringify(body) ?? '', 'utf8');
      if (bytes < maxBytes) return send(body);
      log.error({ method: req.method, path: `${req.baseUrl}${req.path}`, status: res.statusCode, bytes }, 'API answer over the 32 KB cap replaced by a 500');
      res.status(500);
      return send({ error: 'internal', message: 'Something went wrong on our side.' });
    };
    next();
  };
}
