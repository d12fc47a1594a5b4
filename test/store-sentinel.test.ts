import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { caller, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { eventually } from './support/eventually.js';
import { startSentinelSet, type SentinelSet } from './support/redis-sentinel.js';
import { heard } from './support/twiml.js';

describe('when the store is reached through Sentinel and its primary dies (DESIGN A12, B6)', { timeout: 60_000 }, () => {
  let t: TestApp | undefined;
  let set: SentinelSet | undefined;
  afterEach(async () => {
    await t?.close();
    await set?.stop();
  });

  it('then Sentinel promotes the replica, the app follows it without a restart, and a new verified call completes with a device enrolled before', async () => {
    set = await startSentinelSet();
    const sentinels = `${set.sentinel.host}:${set.sentinel.port}`;
    t = await startTestApp({ env: { REDIS_SENTINELS: sentinels, REDIS_SENTINEL_NAME: set.name } });
    expect(t.config.store.kind).toBe('sentinel');
    const app = t.app;
    expect((await request(app).get('/readyz')).status).toBe(200);
    // Enrolment waits for the replica's acknowledgement, so the promoted replica has this device.
    const device = await enrollDevice(t);

    await set.primary.stop();
    const sentinel = set.ask();
    const replicaAddress = ['127.0.0.1', String(set.replica.port)];
    await eventually(async () => expect(await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', set?.name ?? '')).toEqual(replicaAddress), 20_000, 100);
    const promoted = Date.now();
    // Ready, and serving calls: the +switch-master notice may reconnect the client once more.
    const current = t;
    await eventually(async () => {
      expect((await request(app).get('/readyz')).status).toBe(200);
      expect((await caller(current).dial()).gather).toBeDefined();
    }, 5000);
    expect(Date.now() - promoted).toBeLessThan(5000);

    const call = caller(t);
    await call.dial();
    const did = spokenCode(await call.press('1')) ?? '';
    expect(did).toMatch(/^\d{6}$/);
    expect((await device.confirm(did)).status).toBe(200);
    const url = t.twilioFake.callUpdates()[0]?.form.Url ?? '';
    expect(heard(await call.fetch(url))).toMatch(/verified/i);
  });
});
