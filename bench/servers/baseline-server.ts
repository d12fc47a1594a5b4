/**
 * The two baselines, in their own process, measured one after the other:
 *  - /bare    a bare Express route answering a fixed TwiML string (the floor of "Express + HTTP");
 *  - /sample  the Twilio sample-app pattern: Express, urlencoded body, `twilio.twiml.VoiceResponse`,
 *             no signature check, no state (as in Twilio's Node IVR quickstart).
 * Both answer the same main-menu TwiML the app answers to an incoming call, so the bytes match.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import twilio from 'twilio';
import { serveRpc } from '../lib/ipc.js';

const { VoiceResponse } = twilio.twiml;
const WELCOME = 'Thank you for calling Vaultline Bank. We will never ask for your password or PIN on this call.';
const MENU = 'For your account balance, press 1. To get your latest statement by text message, press 2. To speak with an agent, press 0.';
const ACTION = 'https://ivr.bench.test/ivr/twilio/step?t=1';

function menuTwiml(): string {
  const twiml = new VoiceResponse();
  const gather = twiml.gather({ input: ['dtmf'], numDigits: 1, timeout: 6, action: ACTION, method: 'POST', actionOnEmptyResult: true });
  gather.say({ language: 'en-US' }, WELCOME);
  gather.say({ language: 'en-US' }, MENU);
  return twiml.toString();
}

const FIXED = menuTwiml();

const app = express();
app.disable('x-powered-by');
app.post('/bare', (_req, res) => {
  res.type('text/xml').send(FIXED);
});
app.post('/sample', express.urlencoded({ extended: false }), (_req, res) => {
  res.type('text/xml').send(menuTwiml());
});

const server = app.listen(0, '127.0.0.1', () => {
  serveRpc({
    ready: () => ({ port: (server.address() as AddressInfo).port }),
    usage: () => ({ cpu: process.cpuUsage(), wall: performance.now() }),
    stop: () => {
      server.close();
      server.closeAllConnections();
      setImmediate(() => process.exit(0));
      return {};
    },
  });
});
server.keepAliveTimeout = 65_000;
