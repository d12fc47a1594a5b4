import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { enrollDevice } from './support/authenticator.js';
import { CLIENTS, newProviderCallId, startApiTestApp, type ApiTestApp } from './support/api-app.js';

let api: ApiTestApp | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** A session opened, confirmed by an enrolled device and polled: the platform now holds the call token. */
async function verifiedCall(a: ApiTestApp) {
  const device = await enrollDevice(a.t);
  const callId = newProviderCallId();
  const created = await a.send('post', '/sessions', { body: { provider: 'nice-cxone', callId } });
  const { sessionId, did } = created.body as { sessionId: string; did: string };
  expect((await device.confirm(did)).status).toBe(200);
  const poll = await a.send('get', '/sessions/{sessionId}', { params: { sessionId } });
  const callToken = (poll.body as { callToken?: string }).callToken;
  expect(callToken).toBeDefined();
  return { callId, sessionId, callToken: callToken as string };
}

describe('provider API credentials', () => {
  it('when credentials are missing or wrong, then 401 with WWW-Authenticate: Basic and nothing happens', async () => {
    api = await startApiTestApp();
    const callId = newProviderCallId();
    const body = { provider: 'genesys-cloud', callId };
    const missing = await api.send('post', '/sessions', { auth: 'none', body });
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/^Basic/);
    expect(missing.body).toMatchObject({ error: 'unauthorized' });
    const wrongSecret = await api.send('post', '/sessions', { auth: { basic: ['genesys', CLIENTS.nice] }, body });
    expect(wrongSecret.status).toBe(401);
    const unknownId = await api.send('get', '/sessions/{sessionId}', { auth: { basic: ['mallory', CLIENTS.genesys] }, params: { sessionId: 'ses_AAAAAAAAAAAAAAAAAAAAAA_whatever1' } });
    expect(unknownId.status).toBe(401);
    expect(await api.timeline(callId)).toEqual([]);
    // The secrets never reach a log line.
    expect(api.t.rawLogs.join('\n')).not.toContain(CLIENTS.nice);
  });

  it('when anyone fetches /api/v1/openapi.json, then the OpenAPI 3.1 document comes without credentials and under 32 KB', async () => {
    api = await startApiTestApp();
    const res = await request(api.t.app).get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect((res.body as { openapi: string }).openapi).toBe('3.1.0');
    expect(Object.keys((res.body as { paths: object }).paths).sort()).toEqual([
      '/api/v1/balance', '/api/v1/calls/{callId}/end', '/api/v1/calls/{callId}/verification', '/api/v1/sessions', '/api/v1/sessions/{sessionId}',
      '/api/v1/sessions/{sessionId}/cancel', '/api/v1/sessions/{sessionId}/reissue', '/api/v1/statements/sms',
    ]);
    expect(Buffer.byteLength(res.text)).toBeLessThan(32 * 1024);
  });
});

describe('call-bound token on the protected actions', () => {
  it('when the token of a confirmed session is used for its own call, then the real bank\'s balance is answered in the call\'s words and the statement goes by SMS', async () => {
    api = await startApiTestApp();
    const { callId, callToken } = await verifiedCall(api);
    const res = await api.send('post', '/balance', { auth: { bearer: callToken }, body: { callId } });
    expect(res.status).toBe(200);
    // cust_001 in data/demo-bank.json: one checking account ending 9876 holding 1250.50 USD.
    expect(res.body).toEqual({
      speech: 'For account ending in 9 8 7 6, your available balance is $1,250.50.',
      maskedAccount: '••••9876',
      amount: '1250.50',
      currency: 'USD',
    });
    const sms = await api.send('post', '/statements/sms', { auth: { bearer: callToken }, body: { callId, period: '2026-10' } });
    expect(sms.status).toBe(200);
    expect(sms.body).toEqual({ sent: true, maskedMobile: '••••0101' });
    // The SMS went through Twilio REST to the mobile on file, not to the calling number.
    const messages = api.t.twilioFake.messages();
    expect(messages).toHaveLength(1);
    expect(messages[0]?.form.To).toBe('+14155550101');
    expect(api.bank.reads()).toEqual([
      { method: 'getBalance', customerId: 'cust_001', accountId: 'acc_001' },
      { method: 'listStatements', customerId: 'cust_001', accountId: 'acc_001' },
    ]);
    const events = await api.timeline(callId);
    expect(events).toEqual(expect.arrayContaining(['balance_read', 'statement_link_issued', 'statement_sms_sent']));
    expect(api.t.rawLogs.join('\n')).not.toContain('4000123412349876');
    const noSuchAccount = await api.send('post', '/balance', { auth: { bearer: callToken }, body: { callId, accountIndex: 2 } });
    expect(noSuchAccount.status).toBe(404);
    const outOfRange = await api.send('post', '/balance', { auth: { bearer: callToken }, body: { callId, accountIndex: 0 } });
    expect(outOfRange.status).toBe(400);
  });

  it('when the token is presented for another call, then 401, token_rejected in that call\'s timeline, and no action runs', async () => {
    api = await startApiTestApp();
    const { callToken } = await verifiedCall(api);
    const otherCall = newProviderCallId();
    const res = await api.send('post', '/balance', { auth: { bearer: callToken }, body: { callId: otherCall } });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.body).toMatchObject({ error: 'unauthorized' });
    expect(await api.timeline(otherCall)).toEqual(['token_rejected']);
    expect(api.bank.calls).toEqual([]);
    expect(api.t.rawLogs.join('\n')).not.toContain(callToken);
  });

  it('when the platform ends the call, then the same token is refused for that call from then on', async () => {
    api = await startApiTestApp();
    const { callId, callToken } = await verifiedCall(api);
    expect((await api.send('post', '/balance', { auth: { bearer: callToken }, body: { callId } })).status).toBe(200);
    expect((await api.send('post', '/calls/{callId}/end', { params: { callId } })).status).toBe(204);
    const after = await api.send('post', '/statements/sms', { auth: { bearer: callToken }, body: { callId } });
    expect(after.status).toBe(401);
    expect(api.bank.reads().map((c) => c.method)).toEqual(['getBalance']);
    expect(api.t.twilioFake.messages()).toEqual([]);
    const events = await api.timeline(callId);
    expect(events.indexOf('token_rejected')).toBeGreaterThan(events.indexOf('call_ended'));
  });

  it('when the call is verified again by another customer\'s device, then the older token no longer works and the newer one does', async () => {
    api = await startApiTestApp();
    const first = await verifiedCall(api);
    const other = await enrollDevice(api.t, 'cust_002');
    // A minute later in the call (and in another window of the per-call limit).
    api.t.clock.advance(60_000);
    const again = await api.send('post', '/sessions', { body: { provider: 'nice-cxone', callId: first.callId } });
    expect(again.status).toBe(201);
    const { sessionId, did } = again.body as { sessionId: string; did: string };
    expect((await other.confirm(did)).status).toBe(200);
    const { callToken } = (await api.send('get', '/sessions/{sessionId}', { params: { sessionId } })).body as { callToken: string };

    const old = await api.send('post', '/balance', { auth: { bearer: first.callToken }, body: { callId: first.callId } });
    expect(old.status).toBe(401);
    const current = await api.send('post', '/balance', { auth: { bearer: callToken }, body: { callId: first.callId } });
    expect(current.status).toBe(200);
    // cust_002's first account (data/demo-bank.json): ending 5555, 842.17 USD.
    expect(current.body).toMatchObject({ speech: 'For account ending in 5 5 5 5, your available balance is $842.17.', maskedAccount: '••••5555', amount: '842.17' });
    expect(api.bank.calls.map((c) => c.customerId)).toEqual(['cust_002', 'cust_002']);
  });

  it('when no token or Basic credentials are sent to a protected action, then 401 asking for a Bearer token', async () => {
    api = await startApiTestApp();
    const callId = newProviderCallId();
    const none = await api.send('post', '/balance', { auth: 'none', body: { callId } });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    const basic = await api.send('post', '/balance', { body: { callId } });
    expect(basic.status).toBe(401);
    const junk = await api.send('post', '/balance', { auth: { bearer: 'not-a-token' }, body: { callId } });
    expect(junk.status).toBe(401);
  });
});

describe('the 32 KB cap', () => {
  it('when an answer would be 32 KB or more, then the client gets a safe 500 and the log says so', async () => {
    api = await startApiTestApp();
    const { callId, callToken } = await verifiedCall(api);
    // The core answers a 40,000-digit balance; the real protected actions pass it on.
    api.bank.bloat();
    const res = await api.send('post', '/balance', { auth: { bearer: callToken }, body: { callId } });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'internal', message: expect.any(String) });
    expect(Buffer.byteLength(res.text)).toBeLessThan(32 * 1024);
    expect(api.t.logs.some((l) => /32 KB/.test(String(l.msg)) && l.level === 50)).toBe(true);
  });
});
