import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router, type Response } from 'express';

/** What the REST side asks of the phone network behind it. */
export interface SimulatorRestTarget {
  /** calls.update: redirect (Url), replace the document (Twiml) or end the call (Status). */
  updateCall(
    callSid: string,
    update: { url?: string; method: string; twiml?: string; status?: string },
  ): 'updated' | 'not-found' | 'not-in-progress';
  callStatus(callSid: string): string | undefined;
  deliverSms(message: { to: string; from: string; body: string }): { sid: string };
}

/**
 * The REST side of the built-in phone simulator (development only): the subset of Twilio's API the
 * app calls — `Calls/{sid}.json` (live-call redirect) and `Messages.json` (SMS) — checking the
 * account credentials and answering with Twilio's status codes and error numbers.
 */
export function createSimulatorRestApi(deps: { accountSid: string; authToken: string; target: SimulatorRestTarget }): Router {
  const expected = digest(`${deps.accountSid}:${deps.authToken}`);
  const router = Router();
  router.use(express.urlencoded({ extended: false, limit: '64kb' }));
  router.use('/2010-04-01/Accounts/:accountSid', (req, res, next) => {
    const auth = req.header('authorization') ?? '';
    const given = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : '';
    if (req.params.accountSid !== deps.accountSid || !timingSafeEqual(digest(given), expected)) {
      twilioError(res, 401, 20003, 'Authenticate');
      return;
    }
    next();
  });

  router.get('/2010-04-01/Accounts/:accountSid/Calls/:callSid.json', (req, res) => {
    const status = deps.target.callStatus(req.params.callSid);
    if (!status) return twilioError(res, 404, 20404, 'The requested resource was not found');
    res.json(callResource(deps.accountSid, req.params.callSid, status));
  });

  router.post('/2010-04-01/Accounts/:accountSid/Calls/:callSid.json', (req, res) => {
    const body = form(req.body);
    const { callSid } = req.params;
    if (!body.Url && !body.Twiml && !body.Status) return twilioError(res, 400, 21201, 'No Url, Twiml or Status given');
    const outcome = deps.target.updateCall(callSid, {
      method: body.Method ?? 'POST',
      ...(body.Url ? { url: body.Url } : {}),
      ...(body.Twiml ? { twiml: body.Twiml } : {}),
      ...(body.Status ? { status: body.Status } : {}),
    });
    if (outcome === 'not-found') return twilioError(res, 404, 20404, 'The requested resource was not found');
    if (outcome === 'not-in-progress') return twilioError(res, 400, 21220, 'Call is not in-progress. Cannot redirect.');
    res.json(callResource(deps.accountSid, callSid, deps.target.callStatus(callSid) ?? 'in-progress'));
  });

  router.post('/2010-04-01/Accounts/:accountSid/Messages.json', (req, res) => {
    const body = form(req.body);
    const from = body.From ?? body.MessagingServiceSid;
    if (!body.To) return twilioError(res, 400, 21604, "A 'To' phone number is required.");
    if (!from) return twilioError(res, 400, 21603, "A 'From' phone number is required.");
    if (!body.Body) return twilioError(res, 400, 21602, 'Message body is required.');
    const { sid } = deps.target.deliverSms({ to: body.To, from, body: body.Body });
    res.status(201).json({ sid, account_sid: deps.accountSid, status: 'queued', to: body.To, from, body: body.Body, num_segments: '1' });
  });

  router.use((_req, res) => twilioError(res, 404, 20404, 'The requested resource was not found'));
  return router;
}

function form(body: unknown): Record<string, string | undefined> {
  return typeof body === 'object' && body !== null ? (body as Record<string, string | undefined>) : {};
}

function callResource(accountSid: string, sid: string, status: string) {
  return { sid, account_sid: accountSid, status, api_version: '2010-04-01' };
}

/** Twilio's error body: the SDK reads `code` and `status` from it (21220 = the call is gone). */
function twilioError(res: Response, status: number, code: number, message: string): void {
  res.status(status).json({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
