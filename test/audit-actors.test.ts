import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { enrollDevice } from './support/authenticator.js';
import { newProviderCallId, startApiTestApp, type ApiTestApp } from './support/api-app.js';

type Event = { type: string; actor?: { type: string; id: string }; sourceIp?: string };

/** DESIGN A9: an event caused by an HTTP actor other than Twilio carries `actor` and `sourceIp` (PCI DSS 10.2.1, 10.2.2). */
describe('who caused an event, over HTTP', () => {
  let api: ApiTestApp | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  async function events(a: ApiTestApp, callId: string): Promise<Event[]> {
    const res = await request(a.t.app).get(`/admin/v1/calls/${encodeURIComponent(callId)}/events`).set('Authorization', `Bearer ${a.t.adminKey}`);
    expect(res.status).toBe(200);
    return (res.body as { events: Event[] }).events;
  }

  it('when an API client opens, polls and uses a session its customer confirms in the app, then its events name the client, the confirmation names the device, each with the source address', async () => {
    api = await startApiTestApp();
    const device = await enrollDevice(api.t);
    const callId = newProviderCallId();
    const { sessionId, did } = (await api.send('post', '/sessions', { body: { provider: 'genesys-cloud', callId } })).body as { sessionId: string; did: string };
    expect((await device.confirm(did)).status).toBe(200);
    const { callToken } = (await api.send('get', '/sessions/{sessionId}', { params: { sessionId } })).body as { callToken: string };
    expect((await api.send('post', '/balance', { auth: { bearer: callToken }, body: { callId } })).status).toBe(200);
    expect((await api.send('post', '/calls/{callId}/end', { params: { callId } })).status).toBe(204);

    const all = await events(api, callId);
    const client = { actor: { type: 'api-client', id: 'genesys' }, sourceIp: '127.0.0.1' };
    const byDevice = { actor: { type: 'device', id: device.deviceId }, sourceIp: '127.0.0.1' };
    const of = (type: string) => all.filter((e) => e.type === type);
    for (const type of ['session_created', 'did_issued', 'loop_iteration', 'balance_read', 'call_ended']) {
      expect(of(type).length, type).toBeGreaterThan(0);
      for (const e of of(type)) expect(e, type).toMatchObject(client);
    }
    expect(of('confirmed')).toHaveLength(1);
    expect(of('confirmed')[0]).toMatchObject(byDevice);
  });

  it('when an API client cancels its session, then the canceled event names the client', async () => {
    api = await startApiTestApp();
    const callId = newProviderCallId();
    const { sessionId } = (await api.send('post', '/sessions', { body: { provider: 'five9', callId } })).body as { sessionId: string };
    expect((await api.send('post', '/sessions/{sessionId}/cancel', { params: { sessionId } })).status).toBe(200);
    const canceled = (await events(api, callId)).find((e) => e.type === 'canceled');
    expect(canceled).toMatchObject({ actor: { type: 'api-client', id: 'genesys' }, sourceIp: '127.0.0.1' });
  });
});
