import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enrollDevice } from './support/authenticator.js';
import { newProviderCallId, startApiTestApp, type ApiTestApp } from './support/api-app.js';

describe('Idempotency-Key on the provider API POSTs (IETF draft semantics, as Stripe)', () => {
  let api: ApiTestApp;
  beforeEach(async () => {
    api = await startApiTestApp();
  });
  afterEach(async () => {
    await api.close();
  });

  it('when a create is retried with the same key and body, then the stored answer is replayed: same status, same body, one session', async () => {
    const callId = newProviderCallId();
    const body = { provider: 'genesys-cloud', callId, locale: 'en-US' };
    const first = await api.send('post', '/sessions', { body, headers: { 'Idempotency-Key': 'create-1' } });
    expect(first.status).toBe(201);
    // The same JSON in another key order is the same request.
    const replay = await api.send('post', '/sessions', { body: { locale: 'en-US', callId, provider: 'genesys-cloud' }, headers: { 'Idempotency-Key': 'create-1' } });
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect((await api.timeline(callId)).filter((e) => e === 'session_created')).toHaveLength(1);
    expect((await api.timeline(callId)).filter((e) => e === 'did_issued')).toHaveLength(1);
    // Kept at least 24 hours.
    const pttl = await api.t.built.deps.store.redis.pttl(api.keys.idempotency('genesys', 'create-1'));
    expect(pttl).toBeGreaterThanOrEqual(24 * 3600 * 1000);
  });

  it('when a call end is retried with the same key, then the 204 is replayed without a body', async () => {
    const callId = newProviderCallId();
    await api.send('post', '/sessions', { body: { provider: 'five9', callId } });
    const first = await api.send('post', '/calls/{callId}/end', { params: { callId }, headers: { 'Idempotency-Key': 'end-1' } });
    const replay = await api.send('post', '/calls/{callId}/end', { params: { callId }, headers: { 'Idempotency-Key': 'end-1' } });
    expect([first.status, replay.status]).toEqual([204, 204]);
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });

  it('when the same key comes with another body, then 422 idempotency_key_reused and nothing is created', async () => {
    const callA = newProviderCallId();
    const callB = newProviderCallId();
    expect((await api.send('post', '/sessions', { body: { provider: 'five9', callId: callA }, headers: { 'Idempotency-Key': 'k-2' } })).status).toBe(201);
    const reused = await api.send('post', '/sessions', { body: { provider: 'five9', callId: callB }, headers: { 'Idempotency-Key': 'k-2' } });
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ error: 'idempotency_key_reused' });
    expect(await api.timeline(callB)).toEqual([]);
  });

  it('when the same key arrives while the first request is still running, then 409 idempotency_in_flight, and the first still completes once', async () => {
    const device = await enrollDevice(api.t);
    const callId = newProviderCallId();
    const { sessionId, did } = (await api.send('post', '/sessions', { body: { provider: 'agent-desktop', callId } })).body as { sessionId: string; did: string };
    expect((await device.confirm(did)).status).toBe(200);
    const { callToken } = (await api.send('get', '/sessions/{sessionId}', { params: { sessionId } })).body as { callToken: string };

    // The real protected actions run; the demo bank behind them keeps this balance in flight.
    const held = api.bank.holdNextBalance();
    const send = () => api.send('post', '/balance', { auth: { bearer: callToken }, body: { callId }, headers: { 'Idempotency-Key': 'bal-1' } });
    const first = send();
    await held.entered;
    const second = await send();
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ error: 'idempotency_in_flight' });
    held.release();
    const answered = await first;
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ maskedAccount: '••••9876', amount: '1250.50', currency: 'USD' });
    expect(api.bank.reads()).toEqual([{ method: 'getBalance', customerId: 'cust_001', accountId: 'acc_001' }]);

    const replay = await send();
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(answered.body);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(api.bank.reads()).toHaveLength(1);
    expect((await api.timeline(callId)).filter((e) => e === 'balance_read')).toHaveLength(1);
  });

  it('when a request with a key fails validation, then the key is not spent: the corrected request runs', async () => {
    const callId = newProviderCallId();
    const bad = await api.send('post', '/sessions', { body: { provider: 'five9' }, headers: { 'Idempotency-Key': 'k-3' } });
    expect(bad.status).toBe(400);
    // Another body under the same key: allowed, because the first never ran.
    const good = await api.send('post', '/sessions', { body: { provider: 'five9', callId }, headers: { 'Idempotency-Key': 'k-3' } });
    expect(good.status).toBe(201);
  });

  it('when the key is malformed, then 400', async () => {
    const res = await api.send('post', '/sessions', { body: { provider: 'five9', callId: newProviderCallId() }, headers: { 'Idempotency-Key': 'has space' } });
    expect(res.status).toBe(400);
  });

  it('when two clients use the same key, then each has its own', async () => {
    const a = await api.send('post', '/sessions', { as: 'genesys', body: { provider: 'five9', callId: newProviderCallId() }, headers: { 'Idempotency-Key': 'shared' } });
    const b = await api.send('post', '/sessions', { as: 'nice', body: { provider: 'five9', callId: newProviderCallId() }, headers: { 'Idempotency-Key': 'shared' } });
    expect([a.status, b.status]).toEqual([201, 201]);
  });
});
