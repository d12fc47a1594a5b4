import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair } from 'jose';
import { chromium, type Browser, type Page } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../src/app.js';
import { buildDeps, type Built } from '../src/compose.js';
import { loadConfig } from '../src/config/load.js';
import { FIXTURE_FLOWS_DIR } from './support/flows.js';
import { makeTestDevice } from './support/device.js';
import { freshPrefix } from './support/prefix.js';
import { freePort } from '../scripts/lib/redis-server.js';
import { freshAuditSchema } from './support/audit-db.js';

const CHROMIUM = '/usr/bin/chromium';
/** The page polls the app; give a loaded machine time rather than a flaky second. */
const eventually = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 10_000 });
// `UPDATE_SCREENSHOT=1 npx vitest run test/dev-console.test.ts` refreshes the README's picture.
const SCREENSHOT = process.env.UPDATE_SCREENSHOT ? 'docs/img/dev-console.png' : undefined;

const ACCOUNT_NUMBER = '4000123412349876';
/** The shipped demo's PDF for this account and period (`npm run statements` writes it). */
const STATEMENT = { period: '2026-10', file: 'cust_001/acc_001/2026-10.pdf' };
const STATEMENT_PDF = fileURLToPath(new URL(`../data/statements/${STATEMENT.file}`, import.meta.url));

function demoBankFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vl-dev-'));
  const file = join(dir, 'bank.json');
  const account = { id: 'acc_001', number: ACCOUNT_NUMBER, type: 'checking', currency: 'USD', available: '1250.50', statements: [STATEMENT] };
  writeFileSync(file, JSON.stringify({ customers: [{ id: 'cust_001', name: 'Ada Lovelace', mobile: '+14155550101', locale: 'en-US', accounts: [account] }] }));
  mkdirSync(join(dir, 'statements', dirname(STATEMENT.file)), { recursive: true });
  copyFileSync(STATEMENT_PDF, join(dir, 'statements', STATEMENT.file));
  return file;
}

/** `npm start` in development, in-process: the app listening on a free port with its built-in simulator and /dev. */
async function startDevApp(): Promise<{ url: string; publicBaseUrl: string; built: Built; server: Server }> {
  const port = await freePort();
  const bank = demoBankFile();
  const config = loadConfig({
    NODE_ENV: 'development',
    PORT: String(port),
    REDIS_URL: inject('redisUrl'),
    REDIS_KEY_PREFIX: freshPrefix('dev'),
    AUDIT_DATABASE_URL: (await freshAuditSchema()).url,
    FLOWS_DIR: FIXTURE_FLOWS_DIR,
    BANK_DATA_FILE: bank,
    STATEMENTS_DIR: join(dirname(bank), 'statements'),
    LOG_LEVEL: 'silent',
  });
  const built = await buildDeps(config);
  const server = createApp(built.deps).listen(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return { url: `http://127.0.0.1:${port}`, publicBaseUrl: config.publicBaseUrl, built, server };
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
  /** Until the IVR's latest words are this menu and it listens for keys (a key pressed earlier is lost). */
  const waitForMenu = (page: Page, prompt: RegExp) =>
    eventually(async () => prompt.test((await page.locator('#transcript li.say').last().textContent()) ?? '') && (await page.locator('#call-status').textContent()) === 'Listening for keys').toBe(true);

  it('when a developer enrolls the page as an authenticator, dials, presses 1, confirms the spoken code, then presses 2 and 1 and opens the SMS link, then the call is verified, speaks the balance, texts the statement, the link downloads the PDF once and then shows the used-link page', async () => {
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

    // Verified, the call goes on to the balance (one account: no account choice) and back to the main menu.
    await eventually(() => transcript(page).textContent()).toContain('For account ending in 9 8 7 6, your available balance is $1,250.50.');
    await waitForMenu(page, /To get a statement by text message, press 2/);
    await page.click('#keypad [data-key="2"]');
    // Still verified for this call: no second code, and with one statement no month question (A3).
    await eventually(() => transcript(page).textContent()).toMatch(/We've sent a link to your mobile ending in 0 1 0 1\./);
    expect((await transcript(page).textContent())?.match(/code is/gi)).toHaveLength(1);
    expect(await transcript(page).textContent()).not.toMatch(/nothing was listening/);

    // The statement SMS arrives in the inbox: the bank, the period and a single-use link, nothing else.
    const sms = page.locator('#inbox li.sms');
    await eventually(() => sms.count()).toBe(1);
    expect(await sms.locator('.who').textContent()).toBe('to …0101');
    expect(await sms.textContent()).toMatch(/Vaultline Bank: your October 2026 statement: http:\/\/\S+\/s\/[\w-]{32} \(single use, expires in 10 min\)$/);
    const link = sms.locator('a');
    const href = (await link.getAttribute('href')) ?? '';
    // PUBLIC_BASE_URL's default (http://localhost:$PORT), the same app as the console's 127.0.0.1.
    expect(href.startsWith(`${dev.publicBaseUrl}/s/`)).toBe(true);
    expect(await link.textContent()).toBe(href);

    await eventually(() => page.locator('#timeline').textContent()).toMatch(/statement_sms_sent/);
    const timeline = (await page.locator('#timeline .type').allTextContents()).join(' ');
    for (const type of ['session_created', 'did_issued', 'confirmed', 'intercept_success', 'balance_read', 'statement_link_issued', 'statement_sms_sent']) expect(timeline).toContain(type);
    // Last four only, everywhere on the page (the transcript, the inbox, the timeline's details).
    expect(await page.locator('body').innerText()).not.toContain(ACCOUNT_NUMBER);
    expect(await page.content()).not.toContain(ACCOUNT_NUMBER);
    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await page.click('#hangup');
    await eventually(() => page.locator('#call-status').textContent()).toBe('Call ended');
    await eventually(() => page.locator('#timeline').textContent()).toMatch(/call_ended/);

    // The SMS link opens the statement page (A8: GET shows a Download button and spends nothing).
    const context = page.context();
    const opened = context.waitForEvent('response', (r) => r.url() === href && r.request().method() === 'GET');
    const [linkPage] = await Promise.all([page.waitForEvent('popup'), link.click()]);
    expect((await opened).status()).toBe(200);
    await eventually(() => linkPage.locator('h1').textContent()).toBe('Your statement');
    expect(await linkPage.locator('main').innerText()).toContain('This link works once and expires soon.');

    // Download: POST spends the link, 303 to the signed URL, the PDF arrives as an attachment.
    const pdfResponse = context.waitForEvent('response', (r) => r.url().includes('/statements/local/'));
    const [download] = await Promise.all([linkPage.waitForEvent('download'), linkPage.getByRole('button', { name: 'Download statement (PDF)' }).click()]);
    expect(download.suggestedFilename()).toBe(`vaultline-statement-${STATEMENT.period}.pdf`);
    expect((await pdfResponse).headers()['content-type']).toBe('application/pdf');
    const bytes = readFileSync(await download.path());
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(bytes.equals(readFileSync(STATEMENT_PDF))).toBe(true);

    // A second download of the same link: the one "used or expired" page, 410.
    const again = context.waitForEvent('response', (r) => r.url() === href && r.request().method() === 'POST');
    await linkPage.getByRole('button', { name: 'Download statement (PDF)' }).click();
    expect((await again).status()).toBe(410);
    await eventually(() => linkPage.locator('h1').textContent()).toBe('Link no longer available');
    expect(await linkPage.locator('main p:not(.bank)').textContent()).toBe('This statement link has already been used or has expired. Call us to get a new one.');
    // Opening the link again shows the same page: nothing tells a used link from an unknown one.
    expect((await linkPage.goto(href))?.status()).toBe(410);
    expect(await linkPage.locator('h1').textContent()).toBe('Link no longer available');
    expect(await linkPage.content()).not.toContain(ACCOUNT_NUMBER);
    await linkPage.close();

    // The console's timeline keeps following the ended call: the spend and the refused second try show there too.
    const linkEvents = async () => (await page.locator('#timeline .type').allTextContents()).filter((type) => type.startsWith('statement_link_'));
    await eventually(linkEvents).toEqual(['statement_link_issued', 'statement_link_spent', 'statement_link_refused']);
    expect(await page.locator('#timeline li', { hasText: 'statement_link_refused' }).locator('.details').textContent()).toContain('reason=spent');
    // And the dev API reads the same from the audit store.
    const callSid = (await page.locator('#timeline-call').textContent()) ?? '';
    const events = ((await (await page.request.get(`${dev.url}/dev/api/calls/${callSid}/timeline`)).json()) as { events: { type: string; reason?: string }[] }).events;
    expect(events.filter((e) => e.type.startsWith('statement_link_'))).toMatchObject([
      { type: 'statement_link_issued' },
      { type: 'statement_link_spent' },
      { type: 'statement_link_refused', reason: 'spent' },
    ]);
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
      PUBLIC_BASE_URL: 'https://ivr.example.com',
      DATA_SECRET: 'prod-data-secret-of-at-least-32-characters',
      TWILIO_ACCOUNT_SID: 'AC' + '2'.repeat(32),
      TWILIO_AUTH_TOKEN: 'prod-token-0123456789',
      TWILIO_SMS_FROM: '+15005550006',
      ADMIN_API_KEY: 'prod-admin-key-0123456789',
      API_CLIENTS: 'genesys:prod-secret-0123456789',
      AUDIT_REVIEWERS: 'reviewer:prod-reviewer-secret-0123456789',
      TOKEN_SIGNING_KEYS: JSON.stringify([jwk]),
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: freshPrefix('prod'),
      BANK_DATA_FILE: bank,
      STATEMENTS_DIR: join(dirname(bank), 'statements'),
      AUDIT_DATABASE_URL: inject('auditDatabaseUrl'),
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
