import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { buildDeps, type Built } from '../src/compose.js';
import { PUBLIC_BASE_URL, caller, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { makeTestDevice, signConfirmation } from './support/device.js';

/** An app instance listening on loopback, so a burst of confirmations really arrives at once. */
async function listen(app: Express): Promise<{ url: string; server: Server }> {
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('the wrong-code limit holds under any concurrency (DESIGN A4)', () => {
  let t: TestApp;
  let others: Built[];
  let servers: Server[];

  beforeEach(async () => {
    t = await startTestApp();
    others = [];
    servers = [];
  });
  afterEach(async () => {
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await Promise.all(others.map((o) => o.close()));
    await t.close();
  });

  /** An instance URL: the test's app, or a second instance on the same store and config. */
  async function instance(second = false): Promise<string> {
    let app = t.app;
    if (second) {
      const built = await buildDeps(t.config, { clock: t.clock, redirectBackoffMs: [5], auditSql: t.auditSql, logDestination: new Writable({ write: (_c, _e, cb) => cb() }) });
      others.push(built);
      app = createApp(built.deps);
    }
    const l = await listen(app);
    servers.push(l.server);
    return l.url;
  }

  async function device(customerId: string) {
    const { privateKey, publicJwk } = await makeTestDevice('ES256');
    const res = await request(t.app).post('/admin/v1/devices').set('Authorization', `Bearer ${t.adminKey}`).send({ customerId, publicJwk, label: 'phone' });
    const deviceId = (res.body as { deviceId: string }).deviceId;
    return {
      async confirm(baseUrl: string, did: string): Promise<number> {
        const iat = Math.floor(t.clock.now() / 1000);
        const jws = await signConfirmation({ privateKey, kid: deviceId, did, aud: PUBLIC_BASE_URL, iat, exp: iat + 60, jti: randomUUID() });
        const res = await fetch(`${baseUrl}/authenticator/v1/confirmations`, { method: 'POST', headers: { 'content-type': 'application/jose' }, body: jws });
        await res.arrayBuffer();
        return res.status;
      },
    };
  }

  const wrongCode = (i: number) => String(900000 + i);
  const tally = (statuses: number[]) => {
    const out: Record<number, number> = {};
    for (const s of statuses) out[s] = (out[s] ?? 0) + 1;
    return out;
  };

  it('when 100 wrong codes arrive at once from one device, then 10 are 422 (never more) and the rest 429; a stranger right after still confirms', async () => {
    const url = await instance();
    const attacker = await device('cust_attacker');
    const statuses = await Promise.all(Array.from({ length: 100 }, (_, i) => attacker.confirm(url, wrongCode(i))));
    expect(tally(statuses)).toEqual({ 422: 10, 429: 90 });

    // Another customer's device, its own live code: unaffected by the attacker's lock.
    const ada = await device('cust_001');
    const call = caller(t);
    await call.dial();
    const did = spokenCode(await call.press('1')) ?? '';
    expect(await ada.confirm(url, did)).toBe(200);
    expect(t.twilioFake.callUpdates()).toHaveLength(1);
  });

  it('when 100 wrong codes arrive at once from three devices of one customer, then 10 are 422 in all (never more)', async () => {
    const url = await instance();
    const phones = await Promise.all([device('cust_many'), device('cust_many'), device('cust_many')]);
    const statuses = await Promise.all(Array.from({ length: 100 }, (_, i) => (phones[i % 3] ?? phones[0])!.confirm(url, wrongCode(i))));
    expect(tally(statuses)).toEqual({ 422: 10, 429: 90 });
  });

  it('when 100 wrong codes from one device are spread over two app instances, then 10 are 422 in all (never more)', async () => {
    const urls = [await instance(), await instance(true)];
    const attacker = await device('cust_spread');
    const statuses = await Promise.all(Array.from({ length: 100 }, (_, i) => attacker.confirm(urls[i % 2] ?? '', wrongCode(i))));
    expect(tally(statuses)).toEqual({ 422: 10, 429: 90 });
  });

  it('when one device sends 100 copies of one wrong code at once, then 10 are 422 (never more)', async () => {
    const url = await instance();
    const attacker = await device('cust_copies');
    expect(tally(await Promise.all(Array.from({ length: 100 }, () => attacker.confirm(url, '123123'))))).toEqual({ 422: 10, 429: 90 });
  });

  it('when one device confirms one code 20 times at once, then one 200, one redirect, 19 × 422 not counted: the device is not locked', async () => {
    const url = await instance();
    const app = await device('cust_001');
    const call = caller(t);
    await call.dial();
    const did = spokenCode(await call.press('1')) ?? '';
    const counts = tally(await Promise.all(Array.from({ length: 20 }, () => app.confirm(url, did))));
    expect(counts).toEqual({ 200: 1, 422: 19 });
    expect(t.twilioFake.callUpdates()).toHaveLength(1);
    // None of the 19 counted: the device still has all ten wrong codes before it is locked.
    for (let i = 0; i < 10; i++) expect(await app.confirm(url, wrongCode(i))).toBe(422);
    expect(await app.confirm(url, wrongCode(10))).toBe(429);
  });
});
