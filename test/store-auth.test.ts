import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedisServer } from '../scripts/lib/redis-server.js';
import { caller, listeningApp, PUBLIC_BASE_URL, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { eventually } from './support/eventually.js';
import { FIXTURE_FLOWS_DIR } from './support/flows.js';
import { startMain, waitForStatus } from './support/main-process.js';
import { startRedisCluster, type RedisCluster } from './support/redis-cluster.js';
import { startSentinelSet, type SentinelSet } from './support/redis-sentinel.js';
import { makeTestCertificates } from './support/tls.js';
import { heard } from './support/twiml.js';

/**
 * Issue 12 item 1: REDIS_PASSWORD, REDIS_SENTINEL_PASSWORD and REDIS_TLS reach Cluster and Sentinel
 * nodes, on real throw-away servers that ask for them; a wrong password is one log line naming the
 * setting, and /readyz is 503.
 */
const PASSWORD = 'data-node-password-0123456789';
const SENTINEL_PASSWORD = 'sentinel-password-0123456789';

async function verifiedCall(t: TestApp, enrolled?: Awaited<ReturnType<typeof enrollDevice>>): Promise<void> {
  const device = enrolled ?? (await enrollDevice(t));
  const call = caller(t);
  await call.dial();
  const did = spokenCode(await call.press('1')) ?? '';
  expect(did).toMatch(/^\d{6}$/);
  expect((await device.confirm(did)).status).toBe(200);
  expect(heard(await call.fetch(t.twilioFake.callUpdates()[0]?.form.Url ?? ''))).toMatch(/verified/i);
}

/** The log lines that name `setting`, once there is one (the store reports asynchronously). */
async function linesNaming(t: TestApp, setting: string): Promise<string[]> {
  const naming = () => t.rawLogs.filter((l) => l.includes(setting));
  await eventually(() => expect(naming().length).toBeGreaterThan(0), 10_000);
  return naming();
}

describe('a password-protected Redis Cluster (requirepass + masterauth)', { timeout: 90_000 }, () => {
  let cluster: RedisCluster;
  let t: TestApp | undefined;
  const nodes = () => cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',');
  beforeAll(async () => {
    cluster = await startRedisCluster({ password: PASSWORD });
  }, 60_000);
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('when REDIS_PASSWORD is its password, then every master takes writes and a whole verified call works', async () => {
    t = await startTestApp({ env: { REDIS_CLUSTER_NODES: nodes(), REDIS_PASSWORD: PASSWORD } });
    expect(t.config.store.kind).toBe('cluster');
    const app = t.app;
    await eventually(async () => expect((await request(app).get('/readyz')).body).toMatchObject({ checks: { store: 'ok' } }), 10_000);
    await verifiedCall(t);
  });

  it('when REDIS_PASSWORD is wrong, then one log line names REDIS_PASSWORD (never the password) and /readyz is 503', async () => {
    t = await startTestApp({ env: { REDIS_CLUSTER_NODES: nodes(), REDIS_PASSWORD: 'not-the-password-0123456789' } });
    const lines = await linesNaming(t, 'REDIS_PASSWORD');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/store refused the password: REDIS_PASSWORD \(REDIS_CLUSTER_NODES 127\.0\.0\.1:\d+/);
    expect(lines[0]).toMatch(/WRONGPASS/);
    expect(lines[0]).not.toContain('not-the-password');
    expect((await request(t.app).get('/readyz')).status).toBe(503);
    // Still one line after three more refused attempts of the client's retries.
    const redis = t.built.deps.store.redis;
    await new Promise<void>((done) => {
      let refusals = 0;
      const count = () => {
        if (++refusals < 3) return;
        redis.off('error', count);
        done();
      };
      redis.on('error', count);
    });
    expect(t.rawLogs.filter((l) => l.includes('REDIS_PASSWORD'))).toHaveLength(1);
  });
});

describe('one password-protected Redis (REDIS_URL carries the password)', { timeout: 60_000 }, () => {
  it('when the password in REDIS_URL is wrong, then one log line names REDIS_URL and its host (never the password) and /readyz is 503', async () => {
    const server = await startRedisServer(['--requirepass', PASSWORD], undefined, {}, PASSWORD);
    const t = await startTestApp({ redisUrl: server.url.replace(encodeURIComponent(PASSWORD), 'not-the-password-0123456789') });
    try {
      const lines = await linesNaming(t, 'store refused the password');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`store refused the password: REDIS_URL \\(REDIS_URL 127\\.0\\.0\\.1:${server.port}\\): WRONGPASS`));
      expect(lines[0]).not.toContain('not-the-password');
      expect((await request(t.app).get('/readyz')).status).toBe(503);
    } finally {
      await t.close();
      await server.stop();
    }
  });
});

describe('a password-protected Sentinel set (data nodes and the Sentinel each with a password)', { timeout: 90_000 }, () => {
  let set: SentinelSet | undefined;
  let t: TestApp | undefined;
  const env = (s: SentinelSet, overrides: Record<string, string> = {}) => ({
    REDIS_SENTINELS: `${s.sentinel.host}:${s.sentinel.port}`,
    REDIS_SENTINEL_NAME: s.name,
    REDIS_PASSWORD: PASSWORD,
    REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD,
    ...overrides,
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await set?.stop();
    set = undefined;
  });

  it('when both passwords are right, then the app is ready, follows a failover and a verified call completes', async () => {
    const s = (set = await startSentinelSet('vl-auth', { password: PASSWORD, sentinelPassword: SENTINEL_PASSWORD }));
    t = await startTestApp({ env: env(s) });
    expect(t.config.store.kind).toBe('sentinel');
    const app = t.app;
    await eventually(async () => expect((await request(app).get('/readyz')).status).toBe(200), 10_000);
    // Enrolled before the failover: with the old primary gone no replica is left to acknowledge one.
    const device = await enrollDevice(t);
    // The new primary is found through the password-protected Sentinel and reached with REDIS_PASSWORD.
    await s.primary.stop();
    const sentinel = s.ask();
    await eventually(async () => expect(await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', s.name)).toEqual(['127.0.0.1', String(s.replica.port)]), 20_000, 100);
    await eventually(async () => expect((await request(app).get('/readyz')).status).toBe(200), 10_000);
    await verifiedCall(t, device);
  });

  it('when REDIS_SENTINEL_PASSWORD is wrong, then one log line names it and /readyz is 503', async () => {
    const s = (set = await startSentinelSet('vl-auth', { password: PASSWORD, sentinelPassword: SENTINEL_PASSWORD }));
    t = await startTestApp({ env: env(s, { REDIS_SENTINEL_PASSWORD: 'not-the-sentinel-password-0123' }) });
    const lines = await linesNaming(t, 'REDIS_SENTINEL_PASSWORD');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/store refused the password: REDIS_SENTINEL_PASSWORD \(REDIS_SENTINELS /);
    expect(lines[0]).not.toContain('not-the-sentinel-password');
    expect((await request(t.app).get('/readyz')).status).toBe(503);
  });

  it('when REDIS_PASSWORD is wrong, then one log line names it and /readyz is 503', async () => {
    const s = (set = await startSentinelSet('vl-auth', { password: PASSWORD, sentinelPassword: SENTINEL_PASSWORD }));
    t = await startTestApp({ env: env(s, { REDIS_PASSWORD: 'not-the-password-0123456789' }) });
    const lines = await linesNaming(t, 'store refused the password: REDIS_PASSWORD');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/\(REDIS_SENTINELS 127\.0\.0\.1:\d+ \(master vl-auth\)\): WRONGPASS/);
    expect(lines[0]).not.toContain('not-the-password');
    expect((await request(t.app).get('/readyz')).status).toBe(503);
  });
});

const twilio = { accountSid: 'AC' + '7'.repeat(32), authToken: 'tls-store-twilio-token-0123', smsFrom: '+15005550006', apiBaseUrl: undefined };

/** The app as `npm start` runs it (Node reads NODE_EXTRA_CA_CERTS only at a process's start). */
async function startApp(store: Record<string, string>, caFile: string) {
  const port = await freePort();
  const app = startMain(
    {
      NODE_ENV: 'development',
      PORT: String(port),
      PUBLIC_BASE_URL,
      LOG_LEVEL: 'warn',
      FLOWS_DIR: FIXTURE_FLOWS_DIR,
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      // How an operator trusts a private CA: ElastiCache's and most managed ones are public.
      NODE_EXTRA_CA_CERTS: caFile,
      ...store,
    },
    { args: ['--import', import.meta.resolve('tsx'), resolve('src/main.ts')] },
  );
  return { app, origin: `http://127.0.0.1:${port}` };
}

describe('a Redis Cluster over TLS only, with a password (REDIS_TLS=true)', { timeout: 120_000 }, () => {
  let cluster: RedisCluster;
  const certs = makeTestCertificates();
  beforeAll(async () => {
    cluster = await startRedisCluster({ password: PASSWORD, tls: certs });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
    rmSync(certs.dir, { recursive: true, force: true });
  });

  it('when the app runs with REDIS_TLS=true and the CA in NODE_EXTRA_CA_CERTS, then it is ready and answers a call; without REDIS_TLS it is not ready', async () => {
    const nodes = { REDIS_CLUSTER_NODES: cluster.nodes.map((n) => `${n.host}:${n.port}`).join(','), REDIS_PASSWORD: PASSWORD };
    const start = (extra: Record<string, string>) => startApp({ ...nodes, ...extra }, certs.caFile);
    const tls = await start({ REDIS_TLS: 'true' });
    try {
      expect(await waitForStatus(`${tls.origin}/readyz`), tls.app.output().stderr + tls.app.output().stdout).toBe(200);
      const menu = await caller(listeningApp(tls.origin, { twilio })).dial();
      expect(menu.gather?.numDigits).toBe(1);
    } finally {
      await tls.app.stop();
    }
    // The nodes have no plain port: without REDIS_TLS the app cannot speak to them.
    const plain = await start({});
    try {
      expect(await waitForStatus(`${plain.origin}/readyz`, 503)).toBe(503);
    } finally {
      await plain.app.stop();
    }
  });
});

describe('a Sentinel set over TLS only (data nodes, replication and the Sentinel), with both passwords', { timeout: 120_000 }, () => {
  let set: SentinelSet;
  const certs = makeTestCertificates();
  beforeAll(async () => {
    set = await startSentinelSet('vl-tls', { password: PASSWORD, sentinelPassword: SENTINEL_PASSWORD, tls: certs });
  }, 60_000);
  afterAll(async () => {
    await set?.stop();
    rmSync(certs.dir, { recursive: true, force: true });
  });

  it('when the app runs with REDIS_TLS=true, then it finds the primary through the Sentinel, is ready and answers a call', async () => {
    const { app, origin } = await startApp(
      { REDIS_SENTINELS: `${set.sentinel.host}:${set.sentinel.port}`, REDIS_SENTINEL_NAME: set.name, REDIS_PASSWORD: PASSWORD, REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD, REDIS_TLS: 'true' },
      certs.caFile,
    );
    try {
      expect(await waitForStatus(`${origin}/readyz`), app.output().stderr + app.output().stdout).toBe(200);
      const menu = await caller(listeningApp(origin, { twilio })).dial();
      expect(menu.gather?.numDigits).toBe(1);
    } finally {
      await app.stop();
    }
  });
});
