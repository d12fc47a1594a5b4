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
import { cryptoRandom } from '../src/shared/clock.js';

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

describe('a code this device confirmed is never handed to another session while it counts as a double submit', () => {
  it('when a device confirms call A and call B is then opened, then B gets another code and the same device confirms it (200, redirected)', async () => {
    // The DID generator first draws 424242 every time, then (once A holds it) 535353: were A's spent
    // code released, B would be given 424242 again and the device's genuine confirmation of B would
    // read as a double submit of A's code (422).
    let draws = 0;
    const random = {
      int: (min: number, max: number) => (max === 10 ** 6 ? (draws++ < 2 ? 424242 : 535353) : cryptoRandom.int(min, max)),
      bytes: (n: number) => cryptoRandom.bytes(n),
    };
    const t = await startTestApp({ overrides: { random } });
    try {
      const { privateKey, publicJwk } = await makeTestDevice('ES256');
      const enrolled = await request(t.app).post('/admin/v1/devices').set('Authorization', `Bearer ${t.adminKey}`).send({ customerId: 'cust_001', publicJwk, label: 'phone' });
      const kid = (enrolled.body as { deviceId: string }).deviceId;
      const confirm = async (did: string) => {
        const iat = Math.floor(t.clock.now() / 1000);
        const jws = await signConfirmation({ privateKey, kid, did, aud: PUBLIC_BASE_URL, iat, exp: iat + 60, jti: randomUUID() });
        return (await request(t.app).post('/authenticator/v1/confirmations').set('Content-Type', 'application/jose').send(jws)).status;
      };

      const a = caller(t);
      await a.dial();
      const codeA = spokenCode(await a.press('1')) ?? '';
      expect(codeA).toBe('424242');
      expect(await confirm(codeA)).toBe(200);

      const b = caller(t);
      await b.dial();
      const codeB = spokenCode(await b.press('1')) ?? '';
      expect(codeB).toBe('535353');
      expect(await confirm(codeB)).toBe(200);
      expect(t.twilioFake.callUpdates()).toHaveLength(2);
      // And A's code sent again by the same phone is still its double submit: 422, not counted.
      expect(await confirm(codeA)).toBe(422);
    } finally {
      await t.close();
    }
  });
});
