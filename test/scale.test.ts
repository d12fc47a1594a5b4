import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import twilio from 'twilio';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createApp } from '../src/app.js';
import { buildDeps } from '../src/compose.js';
import type { Express } from 'express';
import { PUBLIC_BASE_URL, caller, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { heard } from './support/twiml.js';

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

  it('when a whole verified call alternates its webhooks between two app instances on one Redis and the confirmation goes to a third, then every step works and one timeline holds it all', async () => {
    // Instances that share a Redis must share signing keys, or one cannot verify the other's call tokens.
    const key = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'shared' };
    t = await startTestApp({ env: { TOKEN_SIGNING_KEYS: JSON.stringify([key]) } });
    const first = t;
    // Each instance has its own composition (its own store client, sessions, turns, tokens): only Redis is shared.
    const others = await Promise.all([1, 2].map(() => buildDeps(first.config, { clock: first.clock, redirectBackoffMs: [5], auditSql: first.auditSql })));
    const [second, third] = others.map((o) => createApp(o.deps)) as [Express, Express];
    try {
      // Webhooks go to the first and second instance in turn, as a load balancer would send them.
      const apps = [first.app, second];
      const served: number[] = [];
      let next = 0;
      const alternating: TestApp = {
        ...first,
        twilioPost(pathAndQuery, params, headers = {}) {
          const i = next++ % 2;
          served.push(i);
          const sig = twilio.getExpectedTwilioSignature(first.config.twilio.authToken, PUBLIC_BASE_URL + pathAndQuery, params);
          return request(apps[i] as Express).post(pathAndQuery).type('form').set('X-Twilio-Signature', sig).set(headers).send(params);
        },
      };
      // The authenticator app talks to the third instance only: enrolment and confirmation.
      const device = await enrollDevice({ ...first, app: third });
      const call = caller(alternating);
      expect((await call.dial()).gather).toBeDefined();
      const did = spokenCode(await call.press('1')) ?? '';
      expect(did).toMatch(/^\d{6}$/);
      expect((await device.confirm(did)).status).toBe(200);
      // The third instance redirected the live call; the redirected webhook lands on whichever is next.
      const url = first.twilioFake.callUpdates()[0]?.form.Url ?? '';
      const verified = await call.fetch(url);
      expect(heard(verified)).toMatch(/verified/i);
      expect(heard(verified)).toContain('your available balance is $1,250.50.');
      // Still verified on the other instance: the statement needs no second code.
      expect(heard(await call.press('2'))).toMatch(/For October 2026, press 1/);
      const statement = await call.press('1');
      expect(heard(statement)).toMatch(/sent a link to your mobile ending in/i);
      expect(first.twilioFake.messages()).toHaveLength(1);
      expect((await call.hangUp()).status).toBe(200);
      expect(new Set(served)).toEqual(new Set([0, 1]));

      // One timeline, whichever instance wrote each event, read from the third.
      const events = await request(third).get(`/admin/v1/calls/${call.callSid}/events`).set('Authorization', `Bearer ${first.adminKey}`);
      const types = (events.body as { events: { type: string }[] }).events.map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(['session_created', 'did_issued', 'confirmed', 'intercept_success', 'token_issued', 'balance_read', 'statement_sms_sent', 'call_ended']));
    } finally {
      await Promise.all(others.map((o) => o.close()));
    }
  });
});
