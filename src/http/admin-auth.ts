import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { createCredentialRefusals } from '../api/refusals.js';
import type { Actor } from '../audit/events.js';
import { sourceIpOf } from '../audit/http-actor.js';
import { createReviewerCheck, type Reviewer } from '../audit/reviewers.js';
import type { Logger } from '../log/logger.js';
import type { Clock } from '../shared/clock.js';

/** The admin key is one shared credential: its holder is `admin`. Reviewers are named (AUDIT_REVIEWERS). */
export const ADMIN_ACTOR = { type: 'admin', id: 'admin' } as const satisfies Actor;

/** Who a request of /admin/v1 was authenticated as; set by the guards below. */
export function actorOf(res: Response): Actor {
  const actor: unknown = res.locals.adminActor;
  // A route without a guard in front of it is a wiring bug, not a caller's mistake.
  if (typeof actor !== 'object' || actor === null) throw new Error('no authenticated admin or reviewer on this request');
  return actor as Actor;
}

export interface AdminAuth {
  /** `Authorization: Bearer $ADMIN_API_KEY` only: device enrolment and revocation (a reviewer is refused, 401). */
  adminOnly: RequestHandler;
  /** The admin key, or a reviewer's `Authorization: Basic name:secret` (A11): the audit routes, which only read. */
  adminOrReviewer: RequestHandler;
}

/**
 * The console's sign-in limit (A11: 10 failures per 15 minutes per reviewer and per address, in the
 * store): reserved before a reviewer credential is checked and given back when it holds.
 */
export interface ReviewerFailureLimit {
  reserve(name: string, sourceIp: string): Promise<{ release(): Promise<void> }>;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Credentials of /admin/v1 (DESIGN A9, A11). Comparisons are of hashes, so constant-time whatever the
 * length; a reviewer's name and secret are both always compared (`createReviewerCheck`), and a refusal
 * says only "missing" or "wrong", never which part. Refusals are counted per source address in
 * memory (`createCredentialRefusals`, as /api/v1 does): past the budget the answer is 429, so a
 * guessing script is slowed without any store write, and a genuine reader from the same address whose
 * credentials hold is never affected. A reviewer credential (Basic) also goes through `reviewerLimit`
 * when given: the console's sign-in counters, so a reviewer's name has one budget of failures however
 * it is tried (HTTP Basic here or the console's form), and past it even the right secret waits.
 */
export function createAdminAuth(deps: {
  adminApiKey: string;
  reviewers: readonly Reviewer[];
  logger: Logger;
  clock: Clock;
  reviewerLimit?: ReviewerFailureLimit;
}): AdminAuth {
  const adminDigest = sha256(deps.adminApiKey);
  const reviewer = createReviewerCheck(deps.reviewers);
  const refusals = createCredentialRefusals({ clock: deps.clock, logger: deps.logger });

  const isAdmin = (req: Request) => {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return m?.[1] !== undefined && timingSafeEqual(sha256(m[1]), adminDigest);
  };

  const refuse = (req: Request, res: Response, challenge: string, message: string) => {
    const presented = (req.headers.authorization ?? '').trim() !== '';
    const { error } = refusals.refuse(req, res, { scheme: 'Bearer', reason: presented ? 'wrong' : 'missing', message });
    // One challenge per scheme the route takes (RFC 9110 §11.6.1), replacing the API's.
    if (error.code === 'unauthorized') res.setHeader('WWW-Authenticate', challenge);
    return error;
  };

  return {
    adminOnly(req, res, next) {
      if (isAdmin(req)) {
        res.locals.adminActor = ADMIN_ACTOR;
        return next();
      }
      next(refuse(req, res, 'Bearer', 'A valid admin API key is required.'));
    },
    async adminOrReviewer(req, res, next) {
      if (isAdmin(req)) {
        res.locals.adminActor = ADMIN_ACTOR;
        return next();
      }
      const basic = basicCredentials(req);
      // Throws `locked` (429) past the budget, before the secret is even looked at.
      const reservation = basic && deps.reviewerLimit ? await deps.reviewerLimit.reserve(basic.name, sourceIpOf(req)) : undefined;
      const who = basic ? reviewer(basic.name, basic.secret) : undefined;
      if (who) {
        await reservation?.release();
        res.locals.adminActor = { type: 'reviewer', id: who.name } satisfies Actor;
        return next();
      }
      next(refuse(req, res, 'Bearer, Basic realm="vaultline-audit", charset="UTF-8"', 'A valid admin API key or reviewer credential is required.'));
    },
  };
}

/** `name:secret` of `Authorization: Basic …` (the secret may hold `:`; a name may not), or undefined. */
function basicCredentials(req: Request): { name: string; secret: string } | undefined {
  const m = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i > 0 ? { name: decoded.slice(0, i), secret: decoded.slice(i + 1) } : undefined;
}
