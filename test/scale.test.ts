import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import twilio from 'twilio';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createApp } from '../src/app.js';
import { buildDeps } from '../src/compose.js';
import { PUBLIC_BASE_URL, caller, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { heard, parseTwiml } from './support/twiml.js';

describe('scale beyond one process (DESIGN B6)', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
  });

  it('when the store is a three-node Redis Cluster, then a whole verified call works', async () => {
    const nodes = inject('redisClusterNodes').map((n) => `${n.host}:${n.port}`).join(',');
    t = await startTestApp({ env: { REDIS_CLUSTER_NODES: nodes } });
    expect(t.config.store.kind).toBe('cluster');
    const device = await enrollDevice(t);
    const call = caller(t);
    await call.dial();
    const did = spokenCode(await call.press('1')) ?? '';
    expect((await device.confirm(did)).status).toBe(200);
    const update = t.twilioFake.callUpdates()[0];
    expect(heard(await call.fetch(update?.form.Url ?? ''))).toMatch(/verified/i);
  });

  it('when two app instances share one Redis, then any instance answers any step of the call', async () => {
    // Instances that share a Redis must share signing keys, or one cannot verify the other's call tokens.
    const key = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'shared' };
    t = await startTestApp({ env: { TOKEN_SIGNING_KEYS: JSON.stringify([key]) } });
    const other = await buildDeps(t.config, { clock: t.clock, redirectBackoffMs: [5] });
    const second = createApp(other.deps);
    try {
      const device = await enrollDevice(t);
      const call = caller(t);
      await call.dial();
      // The digit goes to the second instance, the confirmation to the first, the redirect to the second.
      const params = { CallSid: call.callSid, Digits: '1', CallStatus: 'in-progress' };
      const path = (call.last.gather?.action ?? '').slice(PUBLIC_BASE_URL.length);
      const sig = twilio.getExpectedTwilioSignature(t.config.twilio.authToken, PUBLIC_BASE_URL + path, params);
      const waiting = parseTwiml((await request(second).post(path).type('form').set('X-Twilio-Signature', sig).send(params)).text);
      const did = spokenCode(waiting) ?? '';
      expect(did).toMatch(/^\d{6}$/);
      expect((await device.confirm(did)).status).toBe(200);
      const url = t.twilioFake.callUpdates()[0]?.form.Url ?? '';
      const resumePath = url.slice(PUBLIC_BASE_URL.length);
      const resumeParams = { CallSid: call.callSid, CallStatus: 'in-progress' };
      const resumeSig = twilio.getExpectedTwilioSignature(t.config.twilio.authToken, url, resumeParams);
      const verified = parseTwiml((await request(second).post(resumePath).type('form').set('X-Twilio-Signature', resumeSig).send(resumeParams)).text);
      expect(heard(verified)).toMatch(/verified/i);
    } finally {
      await other.close();
    }
  });
});
