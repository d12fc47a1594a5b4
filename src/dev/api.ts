import express, { Router } from 'express';
import { z } from 'zod';
import type { Audit } from '../audit/audit.js';
import { flowDiagram } from '../flows/diagram.js';
import type { Flows } from '../flows/schema.js';
import { httpActor } from '../audit/http-actor.js';
import { AppError } from '../shared/errors.js';
import type { PhoneNetwork } from '../telephony/simulator/network.js';
import type { Devices } from '../verification/devices.js';
import { readDemoCustomers } from './customers.js';

export interface DevApiDeps {
  publicBaseUrl: string;
  phone: PhoneNetwork;
  devices: Devices;
  audit: Audit;
  /** Whether Twilio REST calls reach this simulator (TWILIO_API_BASE_URL unset); else redirects and SMS go elsewhere. */
  restTargetIsSimulator: boolean;
  bankDataFile: string | undefined;
  /** The flows the app runs now (they change when flows/ is edited and reloads). */
  flows: () => Flows;
}

const dialBody = z.object({ from: z.string().regex(/^\+?[0-9]{3,15}$/, 'a phone number such as +14155550101').optional() });
const keysBody = z.object({ keys: z.string().regex(/^[0-9*#]{1,32}$/, 'keypad keys: 0-9, * and #') });
const enrollBody = z.object({
  customerId: z.string().min(1).max(128),
  publicJwk: z.record(z.string(), z.unknown()),
  label: z.string().trim().min(1).max(100).default('dev console'),
});
const afterQuery = z.object({ after: z.coerce.number().int().min(0).default(0) });

/**
 * The JSON side of `/dev` (development only), used by the console page and `npm run call`: place
 * and drive simulated calls, read their transcript, the SMS inbox and the call's audit timeline,
 * and enroll the browser's demo device without the admin key ever reaching the browser.
 */
export function createDevApi(deps: DevApiDeps): Router {
  const { phone } = deps;
  const router = Router();
  router.use(express.json({ limit: '16kb' }));

  const callOf = (sid: string) => {
    const call = phone.call(sid);
    if (!call) throw new AppError('not_found', 'No such simulated call.');
    return call;
  };

  // The same Mermaid text `npm run flows -- diagram` writes to docs/flows/<id>.md, of the loaded flows.
  router.get('/flows', (_req, res) => {
    const flows = deps.flows();
    res.json({ flows: [...flows.byId.values()].map((f) => ({ id: f.id, description: f.description ?? '', mermaid: flowDiagram(f, flows) })) });
  });

  router.get('/info', async (_req, res) => {
    res.json({
      publicBaseUrl: deps.publicBaseUrl,
      simulator: deps.restTargetIsSimulator,
      customers: await readDemoCustomers(deps.bankDataFile),
    });
  });

  router.post('/calls', (req, res) => {
    const body = dialBody.parse(req.body ?? {});
    const call = phone.dial(body.from ? { from: body.from } : {});
    res.status(201).json({ callSid: call.callSid });
  });

  router.get('/calls/:callSid', (req, res) => {
    const call = callOf(req.params.callSid);
    const { after } = afterQuery.parse(req.query);
    res.set('Cache-Control', 'no-store').json({
      callSid: call.callSid,
      status: call.status,
      listening: call.listening,
      entries: call.transcript.filter((e) => e.seq > after),
    });
  });

  router.post('/calls/:callSid/keys', (req, res) => {
    const call = callOf(req.params.callSid);
    res.json({ heard: call.press(keysBody.parse(req.body).keys) });
  });

  router.post('/calls/:callSid/silence', (req, res) => {
    res.json({ timedOut: callOf(req.params.callSid).timeoutNow() });
  });

  router.post('/calls/:callSid/hangup', async (req, res) => {
    const call = callOf(req.params.callSid);
    await call.hangUp();
    res.json({ status: call.status });
  });

  router.get('/calls/:callSid/timeline', async (req, res) => {
    const call = callOf(req.params.callSid);
    res.set('Cache-Control', 'no-store').json({ callId: call.callSid, events: (await deps.audit.timeline(call.callSid)) ?? [] });
  });

  router.get('/messages', (req, res) => {
    const { after } = afterQuery.parse(req.query);
    res.set('Cache-Control', 'no-store').json({ messages: phone.inbox().filter((m) => m.seq > after) });
  });

  router.post('/devices', async (req, res) => {
    const body = enrollBody.parse(req.body);
    const { deviceId } = await deps.devices.enroll(body);
    await deps.audit.record('device_enrolled', { deviceId, customerId: body.customerId, via: 'dev_console', ...httpActor(req, { type: 'admin', id: 'dev-console' }) });
    res.status(201).json({ deviceId });
  });

  router.get('/devices/:deviceId', async (req, res) => {
    const device = await deps.devices.get(req.params.deviceId);
    if (!device) throw new AppError('not_found', 'No such device.');
    res.json({ deviceId: device.deviceId, customerId: device.customerId, label: device.label, status: device.status });
  });

  router.use((_req, _res, next) => next(new AppError('not_found', 'No such dev API route.')));
  return router;
}
