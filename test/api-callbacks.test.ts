import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedisWithMovableClock, type ClockedRedis } from './support/store-clock.js';
import { enrollDevice } from './support/authenticator.js';
import { CLIENTS, newProviderCallId, startApiTestApp, type ApiTestApp } from './support/api-app.js';

interface Received {
  signature: string;
  raw: string;
  body: { sessionId: string; callId: string; status: string };
}

/** A platform's callback endpoint on loopback: answers each POST with the next status of `answers` (then 200). */
async function startReceiver(answers: number[] = []) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      received.push({ signature: String(req.headers['x-vaultline-signature']), raw, body: JSON.parse(raw) as Received['body'] });
      res.statusCode = answers.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/vaultline/callback`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** How a receiver checks `X-Vaultline-Signature` (the recipe in docs/integrations/nice-cxone.md). */
function signatureValid(secret: string, header: string, raw: string, nowSeconds: number): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m?.[1] || !m[2]) return false;
  if (Math.abs(nowSeconds - Number(m[1])) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${m[1]}.${raw}`).digest();
  return timingSafeEqual(expected, Buffer.from(m[2], 'hex'));
}

describe('outbound callbacks when an API session reaches a terminal state', () => {
  let api: ApiTestApp;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  // A code's life is the store's clock (DESIGN B2): time passes for the store and the app together.
  let store: ClockedRedis;
  beforeAll(async () => {
    store = await startRedisWithMovableClock();
  });
  afterAll(async () => {
    await store.stop();
  });
  beforeEach(async () => {
    api = await startApiTestApp({ redisUrl: store.url });
    api.t.clock.set(Date.now() + store.offsetMs);
  });
  afterEach(async () => {
    await api.close();
    await receiver.close();
  });

  const open = async (callbackUrl: string) => {
    const callId = newProviderCallId();
    const res = await api.send('post', '/sessions', { as: 'nice', body: { provider: 'nice-cxone', callId, callbackUrl } });
    expect(res.status).toBe(201);
    return { callId, ...(res.body as { sessionId: string; did: string }) };
  };

  it('when a session with a callback URL is canceled, then one signed POST says so, and the timeline shows it was sent', async () => {
    receiver = await startReceiver();
    const { callId, sessionId } = await open(receiver.url);
    await api.send('post', '/sessions/{sessionId}/cancel', { as: 'nice', params: { sessionId } });
    await api.send('post', '/sessions/{sessionId}/cancel', { as: 'nice', params: { sessionId } });
    await api.notifier.idle();
    expect(receiver.received).toHaveLength(1);
    const [got] = receiver.received;
    expect(got?.body).toEqual({ sessionId, callId, status: 'canceled' });
    expect(signatureValid(CLIENTS.nice, got?.signature ?? '', got?.raw ?? '', Math.floor(api.t.clock.now() / 1000))).toBe(true);
    expect(signatureValid(CLIENTS.genesys, got?.signature ?? '', got?.raw ?? '', Math.floor(api.t.clock.now() / 1000))).toBe(false);
    expect(await api.timeline(callId)).toEqual(['session_created', 'did_issued', 'canceled', 'callback_sent']);
  });

  it('when the receiver fails with 503 first, then the callback is retried and delivered once', async () => {
    receiver = await startReceiver([503]);
    const { callId } = await open(receiver.url);
    await api.send('post', '/calls/{callId}/end', { as: 'nice', params: { callId } });
    await api.notifier.idle();
    expect(receiver.received.map((r) => r.body.status)).toEqual(['call_ended', 'call_ended']);
    expect(await api.timeline(callId)).toContain('callback_sent');
  });

  it('when the receiver keeps failing, then the retries stop after the bound and callback_failed is recorded', async () => {
    receiver = await startReceiver([500, 500, 500, 500, 500]);
    const { callId, sessionId } = await open(receiver.url);
    await api.send('post', '/sessions/{sessionId}/cancel', { as: 'nice', params: { sessionId } });
    await api.notifier.idle();
    // Overrides.callbackBackoffMs [0, 0] in the harness: one attempt and two retries.
    expect(receiver.received).toHaveLength(3);
    expect(await api.timeline(callId)).toContain('callback_failed');
  });

  it('when the code runs out and nobody polls, then the sweep expires the session and the callback says expired', async () => {
    receiver = await startReceiver();
    const { callId, sessionId } = await open(receiver.url);
    expect(await api.notifier.sweepDue()).toBe(0);
    api.t.clock.advance(api.t.config.did.ttlSeconds * 1000);
    store.advance(api.t.config.did.ttlSeconds * 1000);
    expect(await api.notifier.sweepDue()).toBe(1);
    await api.notifier.idle();
    expect(receiver.received.map((r) => r.body)).toEqual([{ sessionId, callId, status: 'expired' }]);
    expect(await api.timeline(callId)).toEqual(['session_created', 'did_issued', 'timeout', 'callback_sent']);
  });

  it('when the confirm use case and a poll both report the confirmation, then the callback is sent once', async () => {
    receiver = await startReceiver();
    const device = await enrollDevice(api.t);
    const { sessionId, did } = await open(receiver.url);
    expect((await device.confirm(did)).status).toBe(200);
    const confirmed = await api.t.built.deps.sessions.get(sessionId);
    expect(confirmed?.status).toBe('confirmed');
    // The app's confirm use case has told the notifier already (src/compose.ts); a second telling changes nothing.
    await api.notifier.notifyTerminal(confirmed!);
    await api.send('get', '/sessions/{sessionId}', { as: 'nice', params: { sessionId } });
    await api.notifier.idle();
    expect(receiver.received.map((r) => r.body.status)).toEqual(['confirmed']);
  });

  it('when a session was not opened through the API, then notifyTerminal sends nothing', async () => {
    receiver = await startReceiver();
    const opened = await api.t.built.deps.sessions.open({ provider: 'twilio', callId: newProviderCallId(), channel: 'twilio' });
    if (opened.kind !== 'created') throw new Error('expected a new session');
    await api.t.built.deps.sessions.cancel(opened.session.sessionId);
    await api.notifier.notifyTerminal({ ...opened.session, status: 'canceled' });
    await api.notifier.idle();
    expect(receiver.received).toEqual([]);
  });
});
