import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { CredentialRefusals } from './refusals.js';

export interface ApiClient {
  id: string;
  secret: string;
}

/** The API client a request was authenticated as; set by `basicAuth` or the call-token check. */
export function clientOf(res: Response): string {
  const id: unknown = res.locals.apiClientId;
  // A route without an auth step in front of it is a wiring bug, not a caller's mistake.
  if (typeof id !== 'string') throw new Error('no authenticated API client on this request');
  return id;
}

export function setClient(res: Response, clientId: string): void {
  res.locals.apiClientId = clientId;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * HTTP Basic with an `API_CLIENTS` credential (A5). Both sides are hashed first so every comparison
 * has the same length, and every client is compared (no early exit), so the time taken says neither
 * which id exists nor how much of a secret matched. A refusal touches no store (`refusals`).
 */
export function basicAuth(clients: readonly ApiClient[], refusals: CredentialRefusals): RequestHandler {
  const expected = clients.map((c) => ({ id: c.id, digest: sha256(`${c.id}:${c.secret}`) }));
  return (req, res, next) => {
    const presented = basicCredentials(req);
    let match: string | undefined;
    if (presented !== undefined) {
      const digest = sha256(presented);
      for (const e of expected) if (timingSafeEqual(digest, e.digest) && match === undefined) match = e.id;
    }
    if (match !== undefined) {
      setClient(res, match);
      return next();
    }
    const { error } = refusals.refuse(req, res, {
      scheme: 'Basic',
      reason: presented === undefined ? 'missing' : 'wrong',
      message: 'Valid API client credentials (HTTP Basic) are required.',
    });
    next(error);
  };
}

/** `id:secret` from `Authorization: Basic …`, or undefined. */
function basicCredentials(req: Request): string | undefined {
  const m = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  return decoded.includes(':') ? decoded : undefined;
}

/** The token of `Authorization: Bearer …`, or undefined. */
export function bearerToken(req: Request): string | undefined {
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}
