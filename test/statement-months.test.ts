import { afterEach, describe, expect, it } from 'vitest';
import { caller, startTestApp, type TestApp } from './support/app.js';
import { newProviderCallId, startApiTestApp, type ApiTestApp } from './support/api-app.js';
import { enrollDevice } from './support/authenticator.js';
import { heard } from './support/twiml.js';
import { confirmHeardCode, timelineOf } from './support/verified-call.js';

/** Issue 15 item 6 (DESIGN A3, A5): statement months, asked only when there is a choice; 3 statement SMS per call. */

let t: TestApp | undefined;
let api: ApiTestApp | undefined;
afterEach(async () => {
  await t?.close();
  await api?.close();
  t = undefined;
  api = undefined;
});

const MAIN_MENU = /For your account balance, press 1/;

/** Dials, presses 2 for a statement, confirms the code on the customer's device: the verified branch's TwiML. */
async function statementCall(app: TestApp, customerId: string) {
  const device = await enrollDevice(app, customerId);
  const call = caller(app, { from: '+14155550999' });
  await call.dial();
  const verified = await confirmHeardCode(app, call, device, await call.press('2'));
  return { call, verified };
}

const smsBodies = (app: TestApp) => app.twilioFake.messages().map((m) => m.form.Body ?? '');

describe('which statement (IVR)', () => {
  it('when the account has two statements, then the caller hears both months and gets the one chosen', async () => {
    t = await startTestApp();
    const { call, verified } = await statementCall(t, 'cust_001');
    expect(heard(verified)).toContain('For October 2026, press 1. For September 2026, press 2.');
    expect(verified.gather).toBeDefined();
    expect(smsBodies(t)).toEqual([]);
    const sent = await call.press('2');
    expect(heard(sent)).toContain("We've sent a link to your mobile ending in 0 1 0 1.");
    expect(smsBodies(t)).toEqual([expect.stringMatching(/^Vaultline Bank: your September 2026 statement: /)]);
    expect((await timelineOf(t, call.callSid)).filter((e) => e.type === 'statement_sms_sent')).toEqual([expect.objectContaining({ period: '2026-09' })]);
  });

  it('when the account has one statement, then the SMS goes at once with no question', async () => {
    t = await startTestApp();
    const { verified } = await statementCall(t, 'cust_004');
    expect(heard(verified)).not.toMatch(/For \w+ \d{4}, press/);
    expect(heard(verified)).toContain("We've sent a link to your mobile ending in 0 1 0 4.");
    expect(heard(verified)).toMatch(MAIN_MENU);
    expect(smsBodies(t)).toEqual([expect.stringMatching(/^Vaultline Bank: your October 2026 statement: /)]);
  });

  it('when the account has four statements, then only the latest 3 are offered', async () => {
    t = await startTestApp();
    const { call, verified } = await statementCall(t, 'cust_005');
    expect(heard(verified)).toContain('For October 2026, press 1. For September 2026, press 2. For August 2026, press 3.');
    expect(heard(verified)).not.toContain('July 2026');
    const retry = await call.press('4');
    expect(heard(retry)).toContain('Sorry, that is not one of your statements.');
    await call.press('3');
    expect(smsBodies(t)).toEqual([expect.stringMatching(/your August 2026 statement/)]);
  });

  it('when a fourth statement is asked for in one call, then the caller is told so, no SMS goes and the call is back at the menu', async () => {
    t = await startTestApp();
    const { call } = await statementCall(t, 'cust_001');
    await call.press('1');
    for (let i = 0; i < 2; i++) {
      await call.press('2'); // already verified: straight to the months
      await call.press('1');
    }
    expect(smsBodies(t)).toHaveLength(3);

    const refused = await call.press('2');
    expect(heard(refused)).toContain('You have already received 3 statements by text message on this call.');
    expect(heard(refused)).not.toMatch(/For October 2026/);
    expect(heard(refused)).toMatch(MAIN_MENU);
    expect(refused.gather).toBeDefined();
    expect(smsBodies(t)).toHaveLength(3);
    const events = await timelineOf(t, call.callSid);
    expect(events.filter((e) => e.type === 'statement_sms_sent')).toHaveLength(3);
    expect(events.filter((e) => e.type === 'statement_sms_refused')).toEqual([expect.objectContaining({ reason: 'per_call_limit', limit: 3 })]);
  });
});

describe('the 3-SMS cap on /api/v1/statements/sms (A5)', () => {
  // The per-call request rate is not what these tests are about.
  /** Five requests about one call at once stay inside the call's limit (API_RATE_LIMIT_PER_CALL). */
  const ROOMY = { env: { API_RATE_LIMIT_PER_CALL: '100' } };

  async function verifiedApiCall(a: ApiTestApp) {
    const device = await enrollDevice(a.t);
    const callId = newProviderCallId();
    const created = await a.send('post', '/sessions', { body: { provider: 'nice-cxone', callId } });
    expect((await device.confirm((created.body as { did: string }).did)).status).toBe(200);
    const poll = await a.send('get', '/sessions/{sessionId}', { params: { sessionId: (created.body as { sessionId: string }).sessionId } });
    return { callId, callToken: (poll.body as { callToken: string }).callToken };
  }

  it('when five statement requests for one call arrive at once, then exactly 3 are sent and 2 answer 429 sms_limit', async () => {
    api = await startApiTestApp(ROOMY);
    const { callId, callToken } = await verifiedApiCall(api);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => api?.send('post', '/statements/sms', { auth: { bearer: callToken }, body: { callId } })),
    );
    const statuses = answers.map((r) => r?.status).sort();
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    for (const r of answers.filter((x) => x?.status === 429)) expect(r?.body).toMatchObject({ error: 'sms_limit' });
    expect(api.t.twilioFake.messages()).toHaveLength(3);
    const events = await api.timeline(callId);
    expect(events.filter((e) => e === 'statement_sms_sent')).toHaveLength(3);
    expect(events.filter((e) => e === 'statement_sms_refused')).toHaveLength(2);
  });

  it('when the SMS provider fails, then that attempt does not count against the call', async () => {
    api = await startApiTestApp(ROOMY);
    const { callId, callToken } = await verifiedApiCall(api);
    let failures = 1;
    api.t.twilioFake.respond((r) => (r.path.endsWith('/Messages.json') && failures-- > 0 ? { status: 500, body: { code: 20500, message: 'down' } } : undefined));
    const send = () => api?.send('post', '/statements/sms', { auth: { bearer: callToken }, body: { callId } });
    expect((await send())?.status).toBe(503);
    for (let i = 0; i < 3; i++) expect((await send())?.status).toBe(200);
    expect((await send())?.body).toMatchObject({ error: 'sms_limit' });
  });
});
