import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { BankingPort } from '../src/banking/port.js';
import { caller, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { startRedisServer, type RedisServer } from '../scripts/lib/redis-server.js';
import { heard } from './support/twiml.js';

describe('when the store goes away mid-call (DESIGN B3, FAIL_MODE=closed)', () => {
  let t: TestApp | undefined;
  let redis: RedisServer | undefined;
  afterEach(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('then the caller hears an apology and goes to the agent queue tagged unverified within 2 s, never a 500', async () => {
    redis = await startRedisServer();
    t = await startTestApp({ redisUrl: redis.url });
    const call = caller(t);
    await call.dial();
    await redis.stop();

    const started = Date.now();
    const answer = await call.press('1');
    const elapsed = Date.now() - started;

    expect(elapsed).toBeLessThan(2000);
    expect(answer.enqueue).toMatch(/unverified$/);
    expect(heard(answer)).toMatch(/sorry/i);
    expect(answer.gather).toBeUndefined();
    expect(t.logs.some((l) => (l.audit as { type?: string } | undefined)?.type === 'fail_closed')).toBe(true);
  });
});

describe('when a dependency fails in a way nobody planned for (a bug, not an outage)', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
  });

  it('then the verified caller is failed closed to an agent, and fail_closed joins the call timeline', async () => {
    const broken: BankingPort = {
      getCustomer: () => Promise.reject(new TypeError('cannot read properties of undefined')),
      getBalance: () => Promise.reject(new TypeError('unreachable')),
      listStatements: () => Promise.reject(new TypeError('unreachable')),
    };
    t = await startTestApp({ overrides: { bank: broken } });
    const device = await enrollDevice(t);
    const call = caller(t);
    await call.dial();
    const did = spokenCode(await call.press('1')) ?? '';
    expect((await device.confirm(did)).status).toBe(200);
    const url = t.twilioFake.callUpdates()[0]?.form.Url ?? '';

    const answer = await call.fetch(url);
    expect(answer.enqueue).toMatch(/unverified$/);
    expect(heard(answer)).toMatch(/sorry/i);
    expect(heard(answer)).not.toMatch(/balance is/);

    const res = await request(t.app).get(`/admin/v1/calls/${call.callSid}/events`).set('Authorization', `Bearer ${t.adminKey}`);
    const events = (res.body as { events: { type: string; reason?: string }[] }).events;
    expect(events.filter((e) => e.type === 'fail_closed').map((e) => e.reason)).toEqual(['internal_error']);
    // The bug's message is in the log for engineers; the caller heard none of it.
    expect(answer.raw).not.toMatch(/undefined|TypeError/);
  });
});
