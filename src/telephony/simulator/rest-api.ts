import { timingSafeEqual, createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import express, { Router } from 'express';

export interface SimulatedCallUpdate {
  callSid: string;
  url: string;
  method: string;
  at: number;
}

export interface SimulatedMessage {
  sid: string;
  to: string;
  from: string;
  body: string;
  at: number;
}

/**
 * The REST side of the built-in phone simulator (development only): the subset of Twilio's API the
 * app calls — `Calls/{sid}.json` (live-call redirect) and `Messages.json` (SMS). It checks the
 * account credentials like Twilio and emits what it receives, so a softphone can act on it.
 */
export function createSimulatorRestApi(deps: { accountSid: string; authToken: string }) {
  const events = new EventEmitter();
  const messages: SimulatedMessage[] = [];
  const expected = digest(`${deps.accountSid}:${deps.authToken}`);
  const router = Router();
  router.use(express.urlencoded({ extended: false, limit: '16kb' }));
  router.use('/2010-04-01/Accounts/:accountSid', (req, res, next) => {
    const auth = req.header('authorization') ?? '';
    const given = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : '';
    if (req.params.accountSid !== deps.accountSid || !timingSafeEqual(digest(given), expected)) {
      res.status(401).json({ code: 20003, message: 'Authenticate', status: 401 });
      return;
    }
    next();
  });
  router.post('/2010-04-01/Accounts/:accountSid/Calls/:callSid.json', (req, res) => {
    const body = req.body as Record<string, string>;
    const update: SimulatedCallUpdate = { callSid: req.params.callSid, url: body.Url ?? '', method: body.Method ?? 'POST', at: Date.now() };
    if (!events.emit('call-update', update)) {
      // No softphone holds this call: answer like Twilio does for a call that is not in progress.
      res.status(400).json({ code: 21220, message: 'Call is not in-progress. Cannot redirect.', status: 400 });
      return;
    }
    res.json({ sid: update.callSid, account_sid: deps.accountSid, status: 'in-progress' });
  });
  router.post('/2010-04-01/Accounts/:accountSid/Messages.json', (req, res) => {
    const body = req.body as Record<string, string>;
    const msg: SimulatedMessage = {
      sid: 'SM' + createHash('sha256').update(`${Date.now()}:${messages.length}`).digest('hex').slice(0, 32),
      to: body.To ?? '',
      from: body.From ?? body.MessagingServiceSid ?? '',
      body: body.Body ?? '',
      at: Date.now(),
    };
    messages.push(msg);
    events.emit('message', msg);
    res.status(201).json({ sid: msg.sid, account_sid: deps.accountSid, status: 'queued', to: msg.to, from: msg.from });
  });
  return { router, events, messages };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
