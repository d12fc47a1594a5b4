import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import twilio from 'twilio';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createApp } from '../src/app.js';
import { buildDeps, type Built } from '../src/compose.js';
import { loadConfig } from '../src/config/load.js';
import { FIXTURE_FLOWS_DIR } from './support/flows.js';
import { createPhoneNetwork, type PhoneNetwork } from '../src/telephony/simulator/network.js';
import type { TranscriptEntry } from '../src/telephony/simulator/types.js';
import { createCallsUpdate } from '../src/telephony/twilio/calls-update.js';
import { createTwilioClient, createTwilioLiveCallControl } from '../src/telephony/twilio/rest.js';
import { makeTestDevice, signConfirmation } from './support/device.js';
import { freshPrefix } from './support/prefix.js';
import { startScriptedApp } from './support/scripted-app.js';
import { freshAuditSchema } from './support/audit-db.js';

// A path prefix on purpose: signed URLs are PUBLIC_BASE_URL + path, requests go to the local address + path.
const PUBLIC = 'https://ivr.bank.test/ivr';
const ACCOUNT = 'AC' + 'b'.repeat(32);
const TOKEN = 'simulator-signature-token';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const said = (e: TranscriptEntry) => (e.kind === 'say' ? e.text : '');
const heardSay = (pattern: RegExp) => (e: TranscriptEntry) => pattern.test(said(e));

describe("the phone simulator's webhooks", () => {
  it("when it places a call, then every webhook has Twilio's standard parameters and a signature twilio.validateRequest accepts", async () => {
    const app = await startScriptedApp({
      '/twilio/voice': `<Response><Gather action="${PUBLIC}/twilio/step?t=1" numDigits="1"><Say>Press 1.</Say></Gather></Response>`,
      '/twilio/step': '<Response><Hangup/></Response>',
    });
    cleanups.push(app.close);
    const phone = createPhoneNetwork({ accountSid: ACCOUNT, authToken: TOKEN, publicBaseUrl: PUBLIC, appBaseUrl: app.baseUrl });
    const call = phone.dial({ from: '+14155550101', to: '+18005550199' });
    await call.waitFor((e) => e.kind === 'listening');
    call.press('1');
    await call.waitFor((e) => e.kind === 'status-callback');

    expect(app.seen.map((s) => s.path)).toEqual(['/twilio/voice', '/twilio/step?t=1', '/twilio/status']);
    for (const hook of app.seen) {
      const url = PUBLIC + hook.path;
      expect(twilio.validateRequest(TOKEN, hook.signature ?? '', url, hook.params)).toBe(true);
      expect(twilio.validateRequest('another-token', hook.signature ?? '', url, hook.params)).toBe(false);
      expect(hook.params).toMatchObject({ AccountSid: ACCOUNT, From: '+14155550101', To: '+18005550199', Direction: 'inbound', ApiVersion: '2010-04-01' });
      expect(hook.params.CallSid).toMatch(/^CA[0-9a-f]{32}$/);
      expect(hook.idempotencyToken).toBeTruthy();
    }
    expect(app.seen.map((s) => s.params.CallStatus)).toEqual(['ringing', 'in-progress', 'completed']);
    expect(app.seen[1]?.params.Digits).toBe('1');
    expect(Number(app.seen[2]?.params.CallDuration)).toBeGreaterThanOrEqual(0);
  });

  it('when a TwiML URL is outside PUBLIC_BASE_URL, then the simulator does not fetch it and the call ends with an error', async () => {
    const app = await startScriptedApp({ '/twilio/voice': '<Response><Redirect>https://elsewhere.example/x</Redirect></Response>' });
    cleanups.push(app.close);
    const phone = createPhoneNetwork({ accountSid: ACCOUNT, authToken: TOKEN, publicBaseUrl: PUBLIC, appBaseUrl: app.baseUrl });
    const call = phone.dial();
    await call.waitFor((e) => e.kind === 'status-callback');
    expect(call.transcript.find((e) => e.kind === 'error')).toMatchObject({ text: expect.stringMatching(/not under PUBLIC_BASE_URL/) });
    expect(app.seen.map((s) => s.path)).toEqual(['/twilio/voice', '/twilio/status']);
  });
});

/** The whole app listening on a loopback port, with this simulator as its Twilio REST target. */
async function appOnSimulator(): Promise<{ phone: PhoneNetwork; built: Built; port: number }> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const local = `http://127.0.0.1:${port}`;
  const config = loadConfig({ NODE_ENV: 'test', PUBLIC_BASE_URL: PUBLIC, REDIS_URL: inject('redisUrl'), REDIS_KEY_PREFIX: freshPrefix('sim'), AUDIT_DATABASE_URL: (await freshAuditSchema()).url, FLOWS_DIR: FIXTURE_FLOWS_DIR, LOG_LEVEL: 'silent' });
  const phone = createPhoneNetwork({ accountSid: config.twilio.accountSid, authToken: config.twilio.authToken, publicBaseUrl: PUBLIC, appBaseUrl: local });
  const built = await buildDeps(config, { twilioApiBaseUrl: `${local}/simulator/twilio`, redirectBackoffMs: [5, 10, 20] });
  const outer = express();
  outer.use('/simulator/twilio', phone.restApi);
  outer.use(createApp(built.deps));
  server.on('request', outer);
  cleanups.push(async () => {
    await phone.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await built.close();
  });
  return { phone, built, port };
}

async function enrollAndConfirm(built: Built, port: number, did: string) {
  const { privateKey, publicJwk } = await makeTestDevice('ES256');
  const { deviceId } = await built.deps.devices.enroll({ customerId: 'cust_001', publicJwk, label: 'simulator test' });
  const iat = Math.floor(Date.now() / 1000);
  const jws = await signConfirmation({ privateKey, kid: deviceId, did, aud: PUBLIC, iat, exp: iat + 60, jti: randomUUID() });
  return fetch(`http://127.0.0.1:${port}/authenticator/v1/confirmations`, { method: 'POST', headers: { 'content-type': 'application/jose' }, body: jws });
}

describe('a verified call through the simulator, against the whole app', () => {
  it('when the caller presses 1 and the app confirms the spoken code, then the simulator receives calls.update and the caller hears "you are verified"', async () => {
    const { phone, built, port } = await appOnSimulator();
    const call = phone.dial();
    await call.waitFor((e) => e.kind === 'listening');
    expect(call.transcript.map(said).join(' ')).toMatch(/press 1/i);

    call.press('1');
    const codeSay = await call.waitFor(heardSay(/code is/i));
    const did = /code is ([\d,\s]+)/i.exec(said(codeSay))?.[1]?.replace(/\D/g, '') ?? '';
    expect(did).toMatch(/^\d{6}$/);
    await call.waitFor((e) => e.kind === 'listening' && e.seq > codeSay.seq);

    const res = await enrollAndConfirm(built, port, did);
    expect(res.status).toBe(200);
    // The app's intercept is a calls.update on the simulator's REST API: the live call moves on without a key.
    await call.waitFor((e) => e.kind === 'redirect' && e.by === 'api');
    await call.waitFor(heardSay(/you are verified/i));
    expect(call.transcript.filter((e) => e.kind === 'keys')).toHaveLength(1);

    const timeline = ((await built.deps.audit.timeline(call.callSid)) ?? []).map((e) => e.type);
    expect(timeline).toEqual(expect.arrayContaining(['session_created', 'did_issued', 'confirmed', 'intercept_success']));
  });

  it('when the caller hangs up, then the app gets the status callback, ends the call, and a later redirect is refused as Twilio does (21220)', async () => {
    const { phone, built, port } = await appOnSimulator();
    const call = phone.dial();
    await call.waitFor((e) => e.kind === 'listening');
    call.press('1');
    await call.waitFor(heardSay(/code is/i));

    await call.hangUp();
    expect(call.transcript.find((e) => e.kind === 'status-callback')).toMatchObject({ callStatus: 'completed', httpStatus: 200 });
    expect(((await built.deps.audit.timeline(call.callSid)) ?? []).map((e) => e.type)).toContain('call_ended');

    const calls = createCallsUpdate({ accountSid: built.deps.config.twilio.accountSid, authToken: built.deps.config.twilio.authToken, apiBaseUrl: `http://127.0.0.1:${port}/simulator/twilio` });
    const control = createTwilioLiveCallControl(calls, { backoffMs: [] });
    expect(await control.redirect(call.callSid, `${PUBLIC}/twilio/resume`)).toEqual({ kind: 'gone' });
    expect(await control.redirect('CA' + '0'.repeat(32), `${PUBLIC}/twilio/resume`)).toEqual({ kind: 'gone' });
    calls.close();
  });
});

describe("the simulator's Twilio REST subset", () => {
  it('when the app sends an SMS with its credentials, then it lands in the inbox; wrong credentials get 401 (20003)', async () => {
    const { phone, built, port } = await appOnSimulator();
    const { accountSid, authToken } = built.deps.config.twilio;
    const base = `http://127.0.0.1:${port}/simulator/twilio`;
    const message = await createTwilioClient({ accountSid, authToken, apiBaseUrl: base }).messages.create({
      to: '+14155550101',
      from: '+15005550006',
      body: 'Vaultline Bank: your statement: https://ivr.bank.test/ivr/s/abc',
    });
    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(phone.inbox()).toEqual([expect.objectContaining({ seq: 1, to: '+14155550101', body: expect.stringContaining('/s/abc') })]);

    const wrong = createTwilioClient({ accountSid, authToken: 'not-the-token', apiBaseUrl: base });
    await expect(wrong.messages.create({ to: '+14155550101', from: '+15005550006', body: 'x' })).rejects.toMatchObject({ status: 401, code: 20003 });
    expect(phone.inbox()).toHaveLength(1);
  });
});
