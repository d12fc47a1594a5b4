import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Audit } from '../audit/audit.js';
import { httpActor } from '../audit/http-actor.js';
import type { Logger } from '../log/logger.js';
import { AppError } from '../shared/errors.js';
import type { Devices } from '../verification/devices.js';

export const enrollDeviceBody = z.object({
  customerId: z.string().min(1).max(128),
  // Shape only; `devices.enroll` decides whether it is an acceptable public key.
  publicJwk: z.record(z.string(), z.unknown()),
  label: z.string().trim().min(1).max(100),
});
export type EnrollDeviceBody = z.infer<typeof enrollDeviceBody>;

/** Back office (DESIGN A4, A9), mounted at `/admin/v1`. */
export function createAdminRouter(deps: { adminApiKey: string; devices: Devices; audit: Audit; logger: Logger }): Router {
  const { devices, audit } = deps;
  const log = deps.logger.child({ component: 'admin' });
  const router = Router();

  router.use(bearerAuth(deps.adminApiKey, log));

  router.post('/devices', async (req, res) => {
    const body = enrollDeviceBody.parse(req.body);
    const { deviceId } = await devices.enroll(body);
    // Device events belong to no call: they name the device and the customer, and who acted from where.
    await audit.record('device_enrolled', { deviceId, customerId: body.customerId, ...httpActor(req, ADMIN) });
    res.status(201).json({ deviceId });
  });

  router.delete('/devices/:deviceId', async (req, res) => {
    const { deviceId } = req.params;
    const device = await devices.get(deviceId);
    if (!device || !(await devices.revoke(deviceId))) throw new AppError('not_found', 'No such device.');
    await audit.record('device_revoked', { deviceId: device.deviceId, customerId: device.customerId, ...httpActor(req, ADMIN) });
    res.status(204).end();
  });

  router.get('/calls/:callId/events', async (req, res) => {
    const { callId } = req.params;
    const events = await audit.timeline(callId);
    // A11: a call never seen (or past retention) is a 404, not an empty timeline.
    if (!events) throw new AppError('not_found', 'No such call in the audit trail.');
    await audit.record('audit_viewed', { subject: subjectOf('call', callId), count: events.length, ...httpActor(req, ADMIN) });
    res.json({ callId, events });
  });

  return router;
}

/** The admin key is one shared credential: its holder is `admin` (named reviewers arrive with AUDIT_REVIEWERS). */
const ADMIN = { type: 'admin', id: 'admin' } as const;

/** `call:<id>` when the id fits a subject, else the kind alone (the event never carries what it cannot hold). */
const subjectOf = (kind: string, id: string) => (/^[A-Za-z0-9._:@+=-]{1,128}$/.test(id) ? `${kind}:${id}` : kind);

/** `Authorization: Bearer <ADMIN_API_KEY>`; both sides hashed first so the comparison is constant-time whatever the length. */
function bearerAuth(adminApiKey: string, log: Logger): RequestHandler {
  const expected = sha256(adminApiKey);
  return (req, res, next) => {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (m?.[1] && timingSafeEqual(sha256(m[1]), expected)) return next();
    log.warn({ method: req.method, path: req.path, credentials: m ? 'wrong' : 'missing' }, 'admin request refused');
    res.setHeader('WWW-Authenticate', 'Bearer');
    next(new AppError('unauthorized', 'A valid admin API key is required.'));
  };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();
