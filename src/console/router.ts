import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { sourceIpOf } from '../audit/http-actor.js';
import type { AuditedReads, ReadBy } from '../audit/reads.js';
import { callsQuery, rangeQuery } from '../http/audit-routes.js';
import type { Logger } from '../log/logger.js';
import { AppError } from '../shared/errors.js';
import type { ConsoleSessions } from './sessions.js';
import type { SignInLimit } from './sign-in-limit.js';
import { timelineRows } from './timeline.js';

export interface ConsoleRouterDeps {
  sessions: ConsoleSessions;
  limit: SignInLimit;
  /** AUDIT_REVIEWERS' check (src/audit/reviewers.ts). */
  checkReviewer: (name: string, secret: string) => { name: string } | undefined;
  /** The trail's reads, each recorded as it is served (src/audit/reads.ts, shared with /admin/v1). */
  reads: AuditedReads;
  logger: Logger;
  /** The path PUBLIC_BASE_URL puts before every route ('' or '/prefix'): cookies are scoped to the public path. */
  basePath: string;
}

const SESSION_COOKIE = '__Secure-vl_console';
const SIGN_IN_COOKIE = '__Secure-vl_console_sign_in';
const CSRF_HEADER = 'x-csrf-token';

/**
 * DESIGN A11's strict policy: every script, style and request from this origin, nothing inline
 * (the pages fill themselves with DOM APIs and textContent), never framed, forms post only here.
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const signInBody = z.strictObject({ name: z.string().min(1).max(64), secret: z.string().min(1).max(256) });
const callIdParam = z.string().regex(/^[A-Za-z0-9._:@+=-]{1,128}$/);

/**
 * The compliance console (DESIGN A11), mounted at `/console` in every environment. Pages are plain
 * files under public/; everything they show comes from `/console/api/*`, behind a store-kept
 * session. Every read is itself an audit event with the reviewer as actor.
 */
export function createConsoleRouter(deps: ConsoleRouterDeps): Router {
  const { sessions, reads } = deps;
  const log = deps.logger.child({ component: 'console' });
  const publicDir = resolve(dirname(fileURLToPath(import.meta.url)), 'public');
  const page = (name: string) => readFileSync(resolve(publicDir, name));
  const signInPage = page('sign-in.html');
  const consolePage = page('console.html');
  const cookiePath = `${deps.basePath}/console`;
  const cookieOptions = { path: cookiePath, httpOnly: true, secure: true, sameSite: 'strict' } as const;

  const router = Router();
  router.use((_req, res, next) => {
    res.set({
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
      'X-Frame-Options': 'DENY',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    next();
  });

  const sendPage = (res: Response, body: Buffer) => res.type('html').send(body);
  const reviewerOf = (res: Response) => res.locals.consoleSession as { id: string; reviewer: string };
  const asReviewer = (req: Request, res: Response): ReadBy => ({ actor: { type: 'reviewer', id: reviewerOf(res).reviewer }, sourceIp: sourceIpOf(req) });

  /** The session of the request's cookie, its idle time restarted; otherwise `refuse`. */
  const withSession =
    (refuse: (res: Response) => void): RequestHandler =>
    async (req, res, next) => {
      const id = cookieOf(req, SESSION_COOKIE);
      const session = id === undefined ? undefined : await sessions.touch(id);
      if (!session) {
        if (id !== undefined) res.clearCookie(SESSION_COOKIE, cookieOptions);
        refuse(res);
        return;
      }
      res.locals.consoleSession = session;
      next();
    };
  const apiSession = withSession(() => {
    throw new AppError('unauthorized', 'Your console session has ended (signed out, or 15 minutes without activity). Sign in again.');
  });
  // Relative, so the redirect stays under PUBLIC_BASE_URL's path prefix behind a proxy.
  const pageSession = (toSignIn: string) => withSession((res) => res.redirect(303, toSignIn));
  const csrf =
    (sent: (req: Request) => string | undefined): RequestHandler =>
    (req, res, next) => {
      if (!sessions.sameToken(sent(req), sessions.csrfToken(reviewerOf(res).id))) {
        throw new AppError('forbidden', 'This page is out of date: reload it.');
      }
      next();
    };
  const csrfHeader = csrf((req) => req.get(CSRF_HEADER));

  // Pages. `/console` and `/console/` resolve a relative redirect differently.
  router.get('/', (req, res) => res.redirect(303, req.originalUrl.split('?')[0]?.endsWith('/') ? 'calls' : 'console/calls'));
  router.get('/sign-in', (_req, res) => sendPage(res, signInPage));
  router.get('/calls', pageSession('sign-in'), (_req, res) => sendPage(res, consolePage));
  router.use('/assets', express.static(resolve(publicDir, 'assets'), { index: false, redirect: false }));

  const api = Router();
  router.use('/api', api);
  // Defence in depth beside SameSite=Strict and the tokens: a browser that says the request comes
  // from another site is refused before anything is read.
  api.use((req, _res, next) => {
    if (req.get('sec-fetch-site') === 'cross-site') throw new AppError('forbidden', 'Cross-site requests are refused.');
    next();
  });

  // Sign-in is CSRF-safe too (no signing a browser into someone's session): the form's token is
  // bound to a nonce in a cookie only this origin's pages can have had set.
  api.get('/sign-in-token', (_req, res) => {
    const nonce = sessions.newNonce();
    res.cookie(SIGN_IN_COOKIE, nonce, { ...cookieOptions, maxAge: 3600_000 });
    res.json({ csrf: sessions.signInToken(nonce) });
  });

  api.post('/sign-in', express.json({ limit: '4kb' }), async (req, res) => {
    const nonce = cookieOf(req, SIGN_IN_COOKIE);
    if (nonce === undefined || !sessions.sameToken(req.get(CSRF_HEADER), sessions.signInToken(nonce))) {
      throw new AppError('forbidden', 'The sign-in page is out of date: reload it and sign in again.');
    }
    const { name, secret } = signInBody.parse(req.body);
    const sourceIp = sourceIpOf(req);
    const reservation = await deps.limit.reserve(name, sourceIp);
    const reviewer = deps.checkReviewer(name, secret);
    if (!reviewer) {
      // Not the name: a secret typed into the wrong field would land in the log.
      log.warn({ sourceIp }, 'console sign-in refused: wrong reviewer name or secret');
      throw new AppError('unauthorized', 'Wrong reviewer name or secret.');
    }
    await reservation.release();
    const session = await sessions.open(reviewer.name);
    log.info({ reviewer: reviewer.name, sourceIp }, 'console sign-in');
    res.clearCookie(SIGN_IN_COOKIE, cookieOptions);
    res.cookie(SESSION_COOKIE, session.id, cookieOptions);
    res.json({ reviewer: reviewer.name, csrf: sessions.csrfToken(session.id) });
  });

  api.get('/session', apiSession, (_req, res) => {
    const { id, reviewer } = reviewerOf(res);
    res.json({ reviewer, csrf: sessions.csrfToken(id) });
  });

  api.post('/sign-out', apiSession, csrfHeader, async (req, res) => {
    const { id, reviewer } = reviewerOf(res);
    await sessions.end(id);
    log.info({ reviewer, sourceIp: sourceIpOf(req) }, 'console sign-out');
    res.clearCookie(SESSION_COOKIE, cookieOptions);
    res.status(204).end();
  });

  // The same parameters as GET /admin/v1/calls, …/audit/verify and …/audit/export (A11).
  api.get('/calls', apiSession, csrfHeader, async (req, res) => {
    const q = callsQuery.parse(req.query);
    res.json(await reads.searchCalls(defined(q), asReviewer(req, res)));
  });

  api.get('/calls/:callId/events', apiSession, csrfHeader, async (req, res) => {
    const callId = callIdParam.safeParse(req.params.callId);
    const events = callId.success ? await reads.timeline(callId.data, asReviewer(req, res)) : undefined;
    if (!callId.success || !events) throw new AppError('not_found', 'No such call in the audit trail.');
    res.json({ callId: callId.data, rows: timelineRows(events) });
  });

  api.get('/verify', apiSession, csrfHeader, async (req, res) => {
    res.json(await reads.verify(rangeQuery.parse(req.query), asReviewer(req, res)));
  });

  // A form post, so the browser downloads the stream to disk as it comes (a fetch would hold it all in memory).
  api.post(
    '/export',
    express.urlencoded({ extended: false, limit: '4kb' }),
    withSession((res) => res.redirect(303, '../sign-in')),
    csrf((req) => (typeof req.body?.csrf === 'string' ? req.body.csrf : undefined)),
    async (req, res) => {
      const { csrf: _token, ...asked } = (req.body ?? {}) as Record<string, unknown>;
      const range = rangeQuery.parse(asked);
      const who = asReviewer(req, res);
      // Recorded (and the first batch read) before the first byte: an export that cannot be audited is not served.
      const lines = await reads.exportNdjson(range, who);
      res.status(200).set({
        'Content-Type': 'application/x-ndjson; charset=utf-8',
        'Content-Disposition': `attachment; filename="audit-${range.from.toISOString().slice(0, 10)}-${range.to.toISOString().slice(0, 10)}.ndjson"`,
      });
      try {
        // Back-pressure from the socket: one keyset batch in memory at a time. A failure destroys the
        // response, so the download is cut short without its export_end line instead of looking complete.
        await pipeline(Readable.from(lines, { objectMode: false }), res);
      } catch (err) {
        if (req.destroyed) log.info({ reviewer: who.actor.id }, 'console export stopped: the browser went away');
        else log.warn({ err, reviewer: who.actor.id }, 'console export cut: the trail could not be read to the end');
      }
    },
  );

  return router;
}

/** zod leaves `key: undefined` for an absent optional; the search's types want it left out. */
function defined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

/** One cookie's value from the Cookie header (no cookie-parser for two cookies). */
function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      const value = part.slice(i + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}
