import { request, Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT } from 'jose';
import { pino } from 'pino';
import twilio from 'twilio';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/log/logger.js';
import { createScrubber } from '../../src/log/scrub.js';
import { deliveryDigest } from '../../src/ivr/turns.js';
import { createTwilioClient } from '../../src/telephony/twilio/rest.js';
import { validTwilioSignature } from '../../src/telephony/twilio/signature-check.js';
import { renderTwiml } from '../../src/telephony/twilio/twiml.js';
import type { Bench } from '../lib/context.js';
import { callParams, newCallSid, pressed } from '../lib/webhook.js';

/** Microseconds per operation, each measured alone in this process while nothing else runs. */
export type UnitCosts = Record<string, number>;

async function perOp(n: number, op: () => unknown): Promise<number> {
  for (let i = 0; i < Math.min(n, 2000); i++) await op();
  const t = performance.now();
  for (let i = 0; i < n; i++) await op();
  return ((performance.now() - t) * 1000) / n;
}

/** The pieces a webhook or a confirmation is made of, so BENCHMARKS.md can say what costs what. */
export async function unitCosts(b: Bench, scale: number): Promise<UnitCosts> {
  const n = (k: number) => Math.max(200, Math.round(k * scale));
  const url = `${b.publicBaseUrl}/twilio/step?t=2`;
  const params = callParams(b.signer.accountSid, newCallSid(), pressed('1'));
  const token = 'bench-token-0123456789abcdef';
  const genuine = twilio.getExpectedTwilioSignature(token, url, params);
  const forged = 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=';
  const menu = [
    { kind: 'say' as const, text: 'Thank you for calling Vaultline Bank. We will never ask for your password or PIN on this call.', locale: 'en-US' },
    { kind: 'say' as const, text: 'For your account balance, press 1. To get your latest statement by text message, press 2. To speak with an agent, press 0.', locale: 'en-US' },
  ];
  const log = createLogger({ level: 'info', destination: pino.destination({ dest: '/dev/null', sync: true }), scrub: createScrubber([token]) }).child({ component: 'audit' });
  const event = { type: 'loop_iteration', at: new Date().toISOString(), callId: params.CallSid, sessionId: 'ses_abcdefghijklmnopqrstuv_abcdefghijklmnop', status: 'pending', loop: 1 };

  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const key = await importJWK(jwk, 'ES256');
  const confirmation = await new SignJWT({ did: '123456', jti: 'x' }).setProtectedHeader({ alg: 'ES256', typ: 'did-confirmation+jwt' }).setIssuedAt().setExpirationTime('1m').sign(privateKey);

  const redis = new Redis(b.redisServer.url);
  const sdk = createTwilioClient({ accountSid: b.signer.accountSid, authToken: token, apiBaseUrl: b.twilio.baseUrl });
  const agent = new Agent({ keepAlive: true });
  const standIn = new URL(b.twilio.baseUrl);
  const sid = newCallSid();
  const plainPost = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        { host: standIn.hostname, port: standIn.port, method: 'POST', path: `/2010-04-01/Accounts/${b.signer.accountSid}/Calls/${sid}.json`, agent, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic eDp4' } },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end('Url=https%3A%2F%2Fivr.bench.test%2Fivr%2Ftwilio%2Fverified&Method=POST');
    });

  const costs: UnitCosts = {
    'Redis round trip (one PING, nothing else in flight)': await perOp(n(5000), () => redis.ping()),
    'signature check, genuine (validTwilioSignature)': await perOp(n(50_000), () => validTwilioSignature(token, genuine, url, params)),
    'signature check, forged (validTwilioSignature)': await perOp(n(50_000), () => validTwilioSignature(token, forged, url, params)),
    'signature check, forged (twilio.validateRequest, before)': await perOp(n(50_000), () => twilio.validateRequest(token, forged, url, params)),
    'dedup digest of a webhook (sha256 over path + params)': await perOp(n(50_000), () => deliveryDigest('/twilio/step?t=2', params)),
    'TwiML of the main menu (string renderer)': await perOp(n(50_000), () => renderTwiml(menu, { kind: 'gather', numDigits: 1, timeoutSeconds: 6 }, url)),
    'the same TwiML through VoiceResponse / xmlbuilder (before)': await perOp(n(50_000), () => {
      const response = new twilio.twiml.VoiceResponse();
      const gather = response.gather({ input: ['dtmf'], numDigits: 1, timeout: 6, action: url, method: 'POST', actionOnEmptyResult: true });
      for (const o of menu) if (o.kind === 'say') gather.say({ language: 'en-US' }, o.text);
      return response.toString();
    }),
    'one audit log line (pino, redaction, scrubber, write to /dev/null)': await perOp(n(20_000), () => log.info({ audit: event }, 'audit loop_iteration')),
    'import a device JWK into WebCrypto (ES256)': await perOp(n(3000), () => importJWK(jwk, 'ES256')),
    'verify a confirmation JWS (ES256, key imported)': await perOp(n(3000), () => jwtVerify(confirmation, key)),
    'sign a call-bound token (ES256)': await perOp(n(3000), () => new SignJWT({ sub: 'cust_001' }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey)),
    'calls.update through the twilio SDK (to the local stand-in)': await perOp(n(2000), () => sdk.calls(sid).update({ url, method: 'POST' })),
    'the same POST with node:http (to the local stand-in)': await perOp(n(2000), plainPost),
  };
  agent.destroy();
  redis.disconnect();
  return costs;
}
