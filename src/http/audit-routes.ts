import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { CALL_OUTCOMES } from '../audit/events.js';
import { sourceIpOf } from '../audit/http-actor.js';
import type { AuditedReads, ReadBy, Range } from '../audit/reads.js';
import type { Logger } from '../log/logger.js';
import { AppError } from '../shared/errors.js';
import { actorOf } from './admin-auth.js';

/** An ISO 8601 instant with an offset (`Z` or `+01:00`), or a UTC day (`2026-11-30`). */
const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .transform((s) => new Date(s));

const inOrder = (q: { from?: Date; to?: Date }) => q.from === undefined || q.to === undefined || q.from.getTime() <= q.to.getTime();
const ORDER = { message: '"from" must not be after "to"', path: ['from'] };

/** A11 `GET /admin/v1/calls`; a parameter it does not know is refused (400), never silently ignored. */
export const callsQuery = z
  .strictObject({
    from: instant.optional(),
    to: instant.optional(),
    outcome: z.enum(CALL_OUTCOMES).optional(),
    verified: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
    customerId: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/).optional(),
    cursor: z.string().regex(/^[A-Za-z0-9_-]{1,300}$/).optional(),
  })
  .refine(inOrder, ORDER);

/** `from` and `to` of the export and the chain check: both required (a range, never "everything"). */
export const rangeQuery = z.strictObject({ from: instant, to: instant }).refine(inOrder, ORDER);

/**
 * The audit routes of DESIGN A11, under /admin/v1, for the admin key and named reviewers alike (the
 * guard in front sets who). They only translate: each read is recorded by `AuditedReads`.
 */
export function createAuditRoutes(deps: { reads: AuditedReads; logger: Logger }): Router {
  const { reads } = deps;
  const log = deps.logger.child({ component: 'audit-routes' });
  const router = Router();
  const by = (req: Request, res: Response): ReadBy => ({ actor: actorOf(res), sourceIp: sourceIpOf(req) });

  router.get('/calls', async (req, res) => {
    const q = callsQuery.parse(req.query);
    const page = await reads.searchCalls(withoutUndefined(q), by(req, res));
    res.setHeader('Cache-Control', 'no-store');
    res.json(page);
  });

  router.get('/calls/:callId/events', async (req, res) => {
    const { callId } = req.params;
    const events = await reads.timeline(callId, by(req, res));
    // A11: a call never seen (or past retention) is a 404, not an empty timeline.
    if (!events) throw new AppError('not_found', 'No such call in the audit trail.');
    res.setHeader('Cache-Control', 'no-store');
    res.json({ callId, events });
  });

  router.get('/audit/verify', async (req, res) => {
    const range: Range = rangeQuery.parse(req.query);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await reads.verify(range, by(req, res)));
  });

  router.get('/audit/export', async (req, res) => {
    const range: Range = rangeQuery.parse(req.query);
    const who = by(req, res);
    const lines = await reads.exportNdjson(range, who);
    res.status(200);
    res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Disposition', `attachment; filename="audit-${range.from.toISOString().slice(0, 10)}-${range.to.toISOString().slice(0, 10)}.ndjson"`);
    try {
      // pipeline waits for the socket to drain before the next chunk (backpressure): one keyset batch
      // in memory at a time, whatever the range. A failure destroys the response, so the client sees a
      // stream cut short without its export_end line rather than an end that looks complete.
      await pipeline(Readable.from(lines, { objectMode: false }), res);
    } catch (err) {
      const gone = req.destroyed || (err instanceof Error && 'code' in err && err.code === 'ERR_STREAM_PREMATURE_CLOSE');
      if (gone) log.info({ actor: who.actor }, 'audit export stopped: the client went away');
      else log.warn({ err, actor: who.actor }, 'audit export cut: the trail could not be read to the end');
    }
  });

  return router;
}

/** zod gives `key: undefined` for an absent optional; the search's types (exactOptionalPropertyTypes) want it left out. */
function withoutUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
