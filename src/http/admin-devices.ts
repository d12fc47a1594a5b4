import { Router } from 'express';
import { z } from 'zod';
import type { Audit } from '../audit/audit.js';
import { sourceIpOf } from '../audit/http-actor.js';
import { AppError } from '../shared/errors.js';
import type { Devices } from '../verification/devices.js';
import { actorOf } from './admin-auth.js';

export const enrollDeviceBody = z.object({
  customerId: z.string().min(1).max(128),
  // Shape only; `devices.enroll` decides whether it is an acceptable public key.
  publicJwk: z.record(z.string(), z.unknown()),
  label: z.string().trim().min(1).max(100),
});
export type EnrollDeviceBody = z.infer<typeof enrollDeviceBody>;

/** Device enrolment and revocation (DESIGN A4), mounted at `/admin/v1/devices` behind the admin-only guard. */
export function createDeviceRoutes(deps: { devices: Devices; audit: Audit }): Router {
  const { devices, audit } = deps;
  const router = Router();

  router.post('/', async (req, res) => {
    const body = enrollDeviceBody.parse(req.body);
    const { deviceId } = await devices.enroll(body);
    // Device events belong to no call: they name the device and the customer, and who acted from where.
    await audit.record('device_enrolled', { deviceId, customerId: body.customerId, actor: actorOf(res), sourceIp: sourceIpOf(req) });
    res.status(201).json({ deviceId });
  });

  router.delete('/:deviceId', async (req, res) => {
    const { deviceId } = req.params;
    const device = await devices.get(deviceId);
    if (!device || !(await devices.revoke(deviceId))) throw new AppError('not_found', 'No such device.');
    await audit.record('device_revoked', { deviceId: device.deviceId, customerId: device.customerId, actor: actorOf(res), sourceIp: sourceIpOf(req) });
    res.status(204).end();
  });

  return router;
}
