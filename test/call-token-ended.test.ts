import { Writable } from 'node:stream';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { buildDeps, type Built } from '../src/compose.js';
import { enrollDevice } from './support/authenticator.js';
import { CLIENTS, newProviderCallId, startApiTestApp, type ApiTestApp } from './support/api-app.js';

/** DESIGN A7, issue 11 item 6: a call-bound token's jti is unusable once its call ended, whichever instance heard the end. */
describe('a call-bound token after its call ended on another instance', () => {
  let api: ApiTestApp | undefined;
  let other: Built | undefined;
  afterEach(async () => {
    await other?.close();
    await api?.close();
  });

  it('when instance B is told the call ended, then instance A refuses the token it minted (401, token_rejected), though it has not expired', async () => {
    api = await startApiTestApp();
    other = await buildDeps(api.t.config, { clock: api.t.clock, logDestination: new Writable({ write: (_c, _e, cb) => cb() }) });
    const b = createApp(other.deps);
    const device = await enrollDevice(api.t);
    const callId = newProviderCallId();
    const { sessionId, did } = (await api.send('post', '/sessions', { body: { provider: 'nice-cxone', callId } })).body as { sessionId: string; did: string };
    expect((await device.confirm(did)).status).toBe(200);
    const callToken = (await api.send('get', '/sessions/{sessionId}', { params: { sessionId } })).body as { callToken?: string };
    const token = callToken.callToken ?? '';
    expect((await api.send('post', '/balance', { auth: { bearer: token }, body: { callId } })).status).toBe(200);

    const basic = `Basic ${Buffer.from(`genesys:${CLIENTS.genesys}`).toString('base64')}`;
    expect((await request(b).post(`/api/v1/calls/${encodeURIComponent(callId)}/end`).set('Authorization', basic).send({})).status).toBe(204);

    const refused = await api.send('post', '/balance', { auth: { bearer: token }, body: { callId } });
    expect(refused.status).toBe(401);
    expect(await api.timeline(callId)).toContain('token_rejected');
  });
});
