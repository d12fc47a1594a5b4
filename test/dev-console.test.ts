import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { chromium, type Browser, type Page } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../src/app.js';
import { buildDeps, type Built } from '../src/compose.js';
import { loadConfig } from '../src/config/load.js';
import { makeTestDevice } from './support/device.js';
import { freshPrefix } from './support/prefix.js';
import { freePort } from './support/redis-server.js';

const CHROMIUM = '/usr/bin/chromium';
/** The page polls the app; give a loaded machine time rather than a flaky second. */
const eventually = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 10_000 });
// `UPDATE_SCREENSHOT=1 npx vitest run test/dev-console.test.ts` refreshes the README's picture.
const SCREENSHOT = process.env.UPDATE_SCREENSHOT ? 'docs/img/dev-console.png' : undefined;

function demoBankFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vl-dev-'));
  const file = join(dir, 'bank.json');
  const account = { id: 'acc_001', number: '4000123412349876', type: 'checking', currency: 'USD', available: '1250.50', statements: [] };
  writeFileSync(file, JSON.stringify({ customers: [{ id: 'cust_001', name: 'Ada Lovelace', mobile: '+14155550101', locale: 'en-US', accounts: [account] }] }));
  mkdirSync(join(dir, 'statements'));
  return file;
}

/** `npm start` in development, in-process: the app listening on a free port with its built-in simulator and /dev. */
async function startDevApp(): Promise<{ url: string; built: Built; server: Server }> {
  const port = await freePort();
  const bank = demoBankFile();
  const config = loadConfig({
    NODE_ENV: 'development',
    PORT: String(port),
    REDIS_URL: inject('redisUrl'),
    REDIS_KEY_PREFIX: freshPrefix('dev'),
    BANK_DATA_FILE: bank,
    STATEMENTS_DIR: join(dirname(bank), 'statements'),
    LOG_LEVEL: 'silent',
  });
  const built = await buildDeps(config);
  const server = createApp(built.deps).listen(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return { url: `http://127.0.0.1:${port}`, built, server };
}

describe('the /dev console in a browser (headless Chromium)', () => {
  let browser: Browser;
  let dev: Awaited<ReturnType<typeof startDevApp>>;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does this`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    dev = await startDevApp();
  });
  afterAll(async () => {
    await browser?.close();
    dev?.server.closeAllConnections();
    await new Promise((r) => dev?.server.close(r));
    await dev?.built.close();
  });

  const transcript = (page: Page) => page.locator('#transcript');

  it('when a developer enrolls the page as an authenticator, dials, presses 1 and confirms the spoken code, then the call is verified and the timeline shows it', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(dev.url)) external.push(r.url());
    });
    await page.goto(`${dev.url}/dev`);
    await eventually(() => page.locator('#customer-select option').allTextContents()).toEqual(['Ada Lovelace (cust_001)']);
    await eventually(() => page.locator('#device-status').textContent()).toMatch(/No device enrolled/);

    await page.click('#enroll');
    await eventually(() => page.locator('#auth-result').textContent()).toMatch(/^Enrolled/);
    expect(await page.locator('#device-status').textContent()).toMatch(/non-extractable/);
    // The key in IndexedDB is a CryptoKey the page itself cannot export.
    // Runs in the page (browser globals), hence a string rather than a Node-typed function.
    const stored = await page.evaluate(`new Promise((resolve) => {
      const open = indexedDB.open('vaultline-dev-console');
      open.onsuccess = () => {
        const get = open.result.transaction('devices').objectStore('devices').get('cust_001');
        get.onsuccess = () => {
          const key = get.result.privateKey;
          const seen = (exported) => resolve({ extractable: key.extractable, algorithm: key.algorithm.name, exported });
          crypto.subtle.exportKey('jwk', key).then(() => seen('yes'), (e) => seen(e.name));
        };
      };
    })`);
    expect(stored).toEqual({ extractable: false, algorithm: 'ECDSA', exported: 'InvalidAccessError' });

    await page.click('#dial');
    await eventually(() => transcript(page).textContent()).toMatch(/press 1/i);
    await page.click('#keypad [data-key="1"]');
    await eventually(() => transcript(page).textContent()).toMatch(/code is [\d, ]+\./i);
    const did = /code is ([\d, ]+)\./i.exec((await transcript(page).textContent()) ?? '')?.[1]?.replace(/\D/g, '') ?? '';
    expect(did).toMatch(/^\d{6}$/);

    await page.fill('#code', did);
    await page.click('#confirm');
    await eventually(() => page.locator('#auth-result').textContent()).toBe('Confirmed: the call is being redirected.');
    await eventually(() => transcript(page).textContent()).toMatch(/you are verified/i);
    expect(await transcript(page).textContent()).toMatch(/the app redirected the live call/);
    await eventually(() => page.locator('#timeline').textContent()).toMatch(/intercept_success/);
    const timeline = (await page.locator('#timeline .type').allTextContents()).join(' ');
    for (const type of ['session_created', 'did_issued', 'confirmed', 'intercept_success']) expect(timeline).toContain(type);
    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await page.click('#hangup');
    await eventually(() => page.locator('#call-status').textContent()).toBe('Call ended');
    await eventually(() => page.locator('#timeline').textContent()).toMatch(/call_ended/);
    expect(external).toEqual([]);
    await page.close();
  });

  it('when a wrong code is confirmed, then the panel says so in plain words and the call keeps waiting', async () => {
    const page = await browser.newPage();
    await page.goto(`${dev.url}/dev`);
    // Each page is a fresh browser context with its own IndexedDB, so it enrolls its own device.
    await page.click('#enroll');
    await eventually(() => page.locator('#auth-result').textContent()).toMatch(/^Enrolled/);
    await page.click('#dial');
    await eventually(() => transcript(page).textContent()).toMatch(/press 1/i);
    await page.click('#keypad [data-key="1"]');
    await eventually(() => transcript(page).textContent()).toMatch(/code is/i);
    await page.click('#use-heard');
    const heard = await page.inputValue('#code');
    expect(heard).toMatch(/^\d{6}$/);
    await page.fill('#code', heard === '000000' ? '111111' : '000000');
    await page.click('#confirm');
    await eventually(() => page.locator('#auth-result').textContent()).toBe('That code was not recognized.');
    expect(await page.locator('#call-status').textContent()).not.toBe('Call ended');
    await page.click('#hangup');
    await page.close();
  });
});

describe('the dev API without a browser', () => {
  it('when the console enrolls a device, then it still refuses anything but a public key (no admin key, same checks)', async () => {
    const dev = await startDevApp();
    try {
      const { publicJwk } = await makeTestDevice('ES256');
      const ok = await request(dev.server).post('/dev/api/devices').send({ customerId: 'cust_001', publicJwk });
      expect(ok.status).toBe(201);
      expect(ok.body.deviceId).toMatch(/^dev_/);
      const withPrivate = await request(dev.server).post('/dev/api/devices').send({ customerId: 'cust_001', publicJwk: { ...publicJwk, d: 'x' } });
      expect(withPrivate.status).toBe(400);
      expect((await request(dev.server).get(`/dev/api/devices/${String(ok.body.deviceId)}`)).body).toMatchObject({ customerId: 'cust_001', status: 'active' });
    } finally {
      dev.server.closeAllConnections();
      await new Promise((r) => dev.server.close(r));
      await dev.built.close();
    }
  });
});

describe('production', () => {
  it('when NODE_ENV=production, then /dev, its API and the simulator answer 404 and none of them is built', async () => {
    const bank = demoBankFile();
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: 'k1' };
    const config = loadConfig({
      NODE_ENV: 'production',
      TWILIO_ACCOUNT_SID: 'AC' + '2'.repeat(32),
      TWILIO_AUTH_TOKEN: 'prod-token-0123456789',
      TWILIO_SMS_FROM: '+15005550006',
      ADMIN_API_KEY: 'prod-admin-key-0123456789',
      API_CLIENTS: 'genesys:prod-secret-0123456789',
      TOKEN_SIGNING_KEYS: JSON.stringify([jwk]),
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: freshPrefix('prod'),
      BANK_DATA_FILE: bank,
      STATEMENTS_DIR: join(dirname(bank), 'statements'),
      LOG_LEVEL: 'silent',
    });
    const built = await buildDeps(config);
    try {
      expect(built.deps.devRouters ?? {}).toEqual({});
      const app = createApp(built.deps);
      for (const path of ['/dev', '/dev/', '/dev/app.js', '/dev/api/info', '/dev/api/messages']) {
        expect((await request(app).get(path)).status).toBe(404);
      }
      expect((await request(app).post('/dev/api/calls').send({})).status).toBe(404);
      expect((await request(app).post(`/simulator/twilio/2010-04-01/Accounts/${config.twilio.accountSid}/Calls/CA${'0'.repeat(32)}.json`)).status).toBe(404);
    } finally {
      await built.close();
    }
  });
});
