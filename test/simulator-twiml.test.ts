import { afterEach, describe, expect, it } from 'vitest';
import { createPhoneNetwork } from '../src/telephony/simulator/network.js';
import type { TranscriptEntry } from '../src/telephony/simulator/types.js';
import { handTimers, startScriptedApp } from './support/scripted-app.js';

const PUBLIC = 'https://ivr.bank.test/ivr';
const ACCOUNT = 'AC' + 'a'.repeat(32);
const TOKEN = 'simulator-test-token';

type Routes = Parameters<typeof startScriptedApp>[0];
let closeApp: (() => Promise<void>) | undefined;
afterEach(async () => {
  await closeApp?.();
  closeApp = undefined;
});

/** The simulator on a line to a scripted app, with timers the test fires by hand. */
async function line(routes: Routes) {
  const app = await startScriptedApp(routes);
  closeApp = app.close;
  const clock = handTimers();
  const phone = createPhoneNetwork({ accountSid: ACCOUNT, authToken: TOKEN, publicBaseUrl: PUBLIC, appBaseUrl: app.baseUrl, timers: clock.timers });
  const call = phone.dial();
  const kinds = () => call.transcript.map((e) => e.kind);
  const said = () => call.transcript.filter((e): e is Extract<TranscriptEntry, { kind: 'say' }> => e.kind === 'say').map((e) => e.text);
  const listening = (n = 1) => call.waitFor((e) => e.kind === 'listening' && call.transcript.filter((x) => x.kind === 'listening').length >= n);
  const ended = () => call.waitFor((e) => e.kind === 'status-callback');
  return { app, clock, call, kinds, said, listening, ended };
}

const twiml = (inner: string) => `<?xml version="1.0" encoding="UTF-8"?><Response>${inner}</Response>`;

describe('the phone simulator plays the TwiML verbs the app uses', () => {
  it('when a Say carries SSML, then the transcript has its words, a break reads as a space, and entities are decoded', async () => {
    const l = await line({
      '/twilio/voice': twiml(
        '<Say language="en-US"><prosody rate="slow">Your code is <say-as interpret-as="digits">4 8 2</say-as></prosody><break time="1s"/>Thanks &amp; goodbye</Say><Hangup/>',
      ),
    });
    await l.ended();
    expect(l.said()).toEqual(['Your code is 4 8 2 Thanks & goodbye']);
    expect(l.call.transcript.find((e) => e.kind === 'ended')).toMatchObject({ reason: 'ivr' });
  });

  it('when a Gather has a finishing key, then the keys before it are posted as Digits to the action URL', async () => {
    const l = await line({
      '/twilio/voice': twiml('<Gather action="/ivr/twilio/step" finishOnKey="#" timeout="7"><Say>Enter your number, then hash.</Say></Gather>'),
      '/twilio/step': twiml('<Hangup/>'),
    });
    await l.listening();
    expect(l.call.listening).toEqual({ timeoutSeconds: 7, finishOnKey: '#' });
    expect(l.call.press('12')).toBe(true);
    expect(l.call.press('#')).toBe(true);
    await l.ended();
    expect(l.app.seen.find((s) => s.path === '/twilio/step')?.params.Digits).toBe('12');
  });

  it('when numDigits is reached, then the Gather submits at once, and keys pressed while nothing listens are lost', async () => {
    const l = await line({
      '/twilio/voice': twiml(`<Gather action="${PUBLIC}/twilio/step" numDigits="1"><Say>Press 1.</Say></Gather>`),
      '/twilio/step': (p) => twiml(`<Say>You pressed ${p.Digits}.</Say><Hangup/>`),
    });
    await l.listening();
    l.call.press('1');
    expect(l.call.press('2')).toBe(false);
    await l.ended();
    expect(l.said()).toEqual(['Press 1.', 'You pressed 1.']);
    expect(l.call.transcript.find((e) => e.kind === 'keys' && e.ignored)).toMatchObject({ digits: '2' });
  });

  it('when a Gather times out with nothing pressed and no actionOnEmptyResult, then the call moves on to the verb after it', async () => {
    const l = await line({
      '/twilio/voice': twiml('<Gather action="/ivr/twilio/step" timeout="4"><Say>Press a key.</Say></Gather><Say>We did not get that.</Say><Hangup/>'),
    });
    await l.listening();
    expect(l.clock.pending()?.ms).toBe(4000);
    l.clock.pending()?.fire();
    await l.ended();
    expect(l.said()).toEqual(['Press a key.', 'We did not get that.']);
    expect(l.kinds()).toContain('silence');
    expect(l.app.seen.map((s) => s.path)).toEqual(['/twilio/voice', '/twilio/status']);
  });

  it('when a Gather has actionOnEmptyResult, then its timeout posts an empty Digits to the action (timeoutNow, no waiting)', async () => {
    const l = await line({
      '/twilio/voice': twiml('<Gather action="/ivr/twilio/step" actionOnEmptyResult="true" timeout="6"><Say>Press a key.</Say></Gather>'),
      '/twilio/step': twiml('<Say>Still there?</Say><Hangup/>'),
    });
    await l.listening();
    expect(l.call.timeoutNow()).toBe(true);
    await l.ended();
    const step = l.app.seen.find((s) => s.path === '/twilio/step');
    expect(step?.params.Digits).toBe('');
    expect(l.said()).toEqual(['Press a key.', 'Still there?']);
  });

  it('when a Gather has no action, then the keys go to the URL of the document it came from', async () => {
    const l = await line({
      '/twilio/voice': (p) => (p.Digits ? twiml('<Hangup/>') : twiml('<Gather numDigits="2"><Say>Two keys.</Say></Gather>')),
    });
    await l.listening();
    l.call.press('42');
    await l.ended();
    expect(l.app.seen.filter((s) => s.path === '/twilio/voice').map((s) => s.params.Digits)).toEqual([undefined, '42']);
  });

  it('when the TwiML redirects with a relative URL, then it is resolved against the document and fetched', async () => {
    const l = await line({
      '/twilio/voice': twiml('<Redirect method="POST">resume?x=1</Redirect>'),
      '/twilio/resume': twiml('<Say>Resumed.</Say><Hangup/>'),
    });
    await l.ended();
    expect(l.app.seen.map((s) => s.path)).toEqual(['/twilio/voice', '/twilio/resume?x=1', '/twilio/status']);
    expect(l.said()).toEqual(['Resumed.']);
  });

  it('when a Play and a Pause come, then both are in the transcript and the next verb waits for the pause on the simulator timer', async () => {
    const l = await line({ '/twilio/voice': twiml('<Play>https://cdn.example/hold.mp3</Play><Pause length="3"/><Say>After the pause.</Say><Hangup/>') });
    await l.call.waitFor((e) => e.kind === 'pause');
    expect(l.said()).toEqual([]);
    expect(l.clock.pending()?.ms).toBe(3000);
    l.clock.pending()?.fire();
    await l.ended();
    expect(l.kinds().slice(0, 3)).toEqual(['play', 'pause', 'say']);
  });

  it.each([
    ['Enqueue', '<Say>Please hold.</Say><Enqueue>agents-unverified</Enqueue>', 'agents-unverified'],
    ['Dial', '<Dial><Number>+18005550100</Number></Dial>', '+18005550100'],
  ])('when the app transfers with %s, then the call leaves the IVR and the status callback says completed', async (via, body, to) => {
    const l = await line({ '/twilio/voice': twiml(body) });
    await l.ended();
    expect(l.call.transcript.find((e) => e.kind === 'transfer')).toMatchObject({ via, to });
    expect(l.call.transcript.find((e) => e.kind === 'ended')).toMatchObject({ reason: 'transferred' });
    expect(l.app.seen.at(-1)).toMatchObject({ path: '/twilio/status', params: { CallStatus: 'completed' } });
  });

  it('when the document runs out of verbs, then the call ends, as on Twilio', async () => {
    const l = await line({ '/twilio/voice': twiml('<Say>That is all.</Say>') });
    await l.ended();
    expect(l.call.transcript.find((e) => e.kind === 'ended')).toMatchObject({ reason: 'end-of-twiml' });
  });

  it.each([
    ['a 500', { status: 500, type: 'text/plain', body: 'boom' }, /answered 500/],
    ['no TwiML', { status: 200, type: 'application/json', body: '{}' }, /answered 200 \(application\/json\)/],
    ['broken XML', { status: 200, type: 'text/xml', body: '<Response><Say>unclosed</Response>' }, /invalid TwiML/],
    ['a DOCTYPE (entity tricks)', { status: 200, type: 'text/xml', body: '<!DOCTYPE r [<!ENTITY a "b">]><Response><Say>&a;</Say></Response>' }, /DOCTYPE/],
    ['another root', { status: 200, type: 'text/xml', body: '<Answer><Say>hi</Say></Answer>' }, /not <Response>/],
  ])('when the app answers %s, then the call ends with an error in the transcript', async (_label, answer, message) => {
    const l = await line({ '/twilio/voice': answer });
    await l.ended();
    expect(l.call.transcript.find((e) => e.kind === 'error')).toMatchObject({ text: expect.stringMatching(message) });
    expect(l.call.transcript.find((e) => e.kind === 'ended')).toMatchObject({ reason: 'error' });
  });

  it('when the caller hangs up during a Gather, then the status callback is sent once and later keys are lost', async () => {
    const l = await line({ '/twilio/voice': twiml('<Gather action="/ivr/twilio/step"><Say>Press.</Say></Gather>') });
    await l.listening();
    await l.call.hangUp();
    await l.call.hangUp();
    expect(l.call.press('1')).toBe(false);
    expect(l.call.status).toBe('completed');
    expect(l.app.seen.filter((s) => s.path === '/twilio/status')).toHaveLength(1);
    expect(l.call.transcript.find((e) => e.kind === 'ended')).toMatchObject({ reason: 'caller' });
  });
});
