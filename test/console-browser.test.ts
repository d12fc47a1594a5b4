import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../src/audit/events.js';
import { freePort } from '../scripts/lib/redis-server.js';
import { caller, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { AUDIT_REVIEWERS, REVIEWERS } from './support/console.js';
import { startPrefixProxy } from './support/prefix-proxy.js';

/**
 * Issue 14 acceptance: the compliance console in headless Chromium (/usr/bin/chromium through
 * playwright-core, as test/flow-diagram.test.ts), in front of the whole app with real Redis and
 * real PostgreSQL, behind a proxy that mounts it under PUBLIC_BASE_URL's path prefix (/ivr).
 */

const CHROMIUM = '/usr/bin/chromium';
const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

let t: TestApp;
let server: Server;
let proxy: Awaited<ReturnType<typeof startPrefixProxy>>;
let browser: Browser;
let consoleUrl = '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  t = await startTestApp({ env: { AUDIT_REVIEWERS, TRUST_PROXY: '1' } });
  const port = await freePort();
  server = t.app.listen(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  // PUBLIC_BASE_URL is https://ivr.bank.test/ivr: the browser reaches the console under /ivr.
  proxy = await startPrefixProxy(port, '/ivr');
  consoleUrl = `${proxy.origin}/ivr/console`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await t?.close();
});

/** A page that collects what would be a fault: a script error, a CSP violation, a failed request. */
async function watchedPage(context: BrowserContext): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`csp: ${m.text()}`);
  });
  return { page, problems };
}

async function signIn(page: Page, name: string, secret: string) {
  await page.goto(consoleUrl);
  await page.waitForURL(/\/ivr\/console\/sign-in/);
  await expect.poll(() => page.locator('#sign-in-button').isEnabled()).toBe(true);
  await page.fill('#name', name);
  await page.fill('#secret', secret);
  await page.click('#sign-in-button');
  await page.waitForURL(/\/ivr\/console\/calls$/);
  await expect.poll(() => page.locator('#reviewer').textContent()).toBe(name);
}

/** A whole verified call: the caller hears the balance, then hangs up (outcome contained). */
async function verifiedBalanceCall() {
  const device = await enrollDevice(t);
  const call = caller(t, { from: '+14155550999' });
  await call.dial();
  const did = spokenCode(await call.press('1')) ?? '';
  expect((await device.confirm(did)).status).toBe(200);
  const update = t.twilioFake.callUpdates().find((u) => u.path.endsWith(`/Calls/${call.callSid}.json`));
  await call.fetch(update?.form.Url ?? '');
  await call.hangUp();
  return call.callSid;
}

async function agentCall() {
  const call = caller(t, { from: '+14155550888' });
  await call.dial();
  await call.press('0');
  await call.hangUp();
  return call.callSid;
}

describe('the compliance console in headless Chromium', () => {
  it('when a reviewer signs in, finds a call of this test by date and outcome, opens its timeline, exports, verifies and signs out, then a second tab is refused', async () => {
    const context = await browser.newContext();
    const { page, problems } = await watchedPage(context);
    await signIn(page, 'alice', REVIEWERS.alice);

    // Secure cookies over http://127.0.0.1: Chromium counts loopback as a secure context, so it keeps them.
    const cookie = (await context.cookies()).find((c) => c.name === '__Secure-vl_console');
    expect(cookie).toMatchObject({ path: '/ivr/console', httpOnly: true, secure: true, sameSite: 'Strict' });
    // The page's script cannot read it (HttpOnly); the test's tsconfig has no DOM types, hence the string.
    expect(await page.evaluate('[isSecureContext, document.cookie]')).toEqual([true, '']);

    const contained = await verifiedBalanceCall();
    const transferred = await agentCall();
    await t.built.deps.audit.drainNow();

    await page.fill('#from', isoDay(Date.now() - DAY_MS));
    await page.fill('#to', isoDay(Date.now()));
    await page.selectOption('#outcome', 'contained');
    await page.click('#search-button');
    const row = page.locator(`#calls tr[data-call-id="${contained}"]`);
    await row.waitFor();
    expect(await row.locator('td').allTextContents()).toEqual(expect.arrayContaining(['contained', 'yes', 'cust_001', '+…0999', contained]));
    expect(await page.locator(`#calls tr[data-call-id="${transferred}"]`).count()).toBe(0);

    await row.locator('button.open-timeline').click();
    await expect.poll(() => page.locator('#timeline-title').textContent()).toBe(`Timeline of call ${contained}`);
    const timeline = await page.locator('#timeline tbody tr').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(timeline.map((r) => r[1])).toEqual([
      'Call started',
      'Verification session created',
      'Code issued',
      'Code confirmed',
      'Call token issued',
      'Call redirected (verified)',
      'Waiting for the code',
      'Balance read',
      'Call ended',
    ]);
    expect(timeline.at(-1)?.[2]).toBe('contained');
    expect(timeline.find((r) => r[1] === 'Code confirmed')?.[4]).toMatch(/deviceId: dev_.* · customerId: cust_001/);
    expect(timeline[0]?.[3]).toBe('—');
    expect(timeline[0]?.[0]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/);
    const shown = (await page.locator('body').textContent()) ?? '';
    expect(shown).not.toMatch(/4155550999|8005550199|4000123412349876/);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-button')]);
    expect(download.suggestedFilename()).toMatch(/^audit-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.ndjson$/);
    const lines = readFileSync(await download.path(), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; callId?: string });
    expect(lines.at(-1)).toEqual({ type: 'export_end', count: lines.length - 1 });
    expect(lines.filter((l) => l.callId === contained).map((l) => l.type)).toEqual([
      'call_started', 'session_created', 'did_issued', 'confirmed', 'token_issued', 'intercept_success', 'loop_iteration', 'balance_read', 'call_ended',
    ]);
    expect(page.url()).toMatch(/\/ivr\/console\/calls$/);

    await page.click('#verify-button');
    await expect.poll(() => page.locator('#verify-result').textContent()).toMatch(/^Chain intact: \d+ events? checked\.$/);

    // A second tab of the same browser, open before the sign-out.
    const { page: tab2, problems: tab2Problems } = await watchedPage(context);
    await tab2.goto(consoleUrl);
    await tab2.waitForURL(/\/ivr\/console\/calls$/);

    await page.click('#sign-out');
    await page.waitForURL(/\/ivr\/console\/sign-in$/);
    expect((await context.cookies()).some((c) => c.name === '__Secure-vl_console')).toBe(false);

    // The open tab's next search is refused and lands on the sign-in page; so does a fresh visit.
    await tab2.click('#search-button');
    await tab2.waitForURL(/\/ivr\/console\/sign-in\?ended=1$/);
    expect(await tab2.locator('#ended').isVisible()).toBe(true);
    const tab3 = await context.newPage();
    await tab3.goto(`${consoleUrl}/calls`);
    await tab3.waitForURL(/\/ivr\/console\/sign-in/);

    expect([...problems, ...tab2Problems]).toEqual([]);

    // Every read the reviewer made is in the trail with the name and the address the proxy saw.
    await t.built.deps.audit.drainNow();
    const reads = (await t.auditSql.query<{ body: AuditEvent }>("SELECT body FROM audit_events WHERE type IN ('audit_viewed', 'audit_exported') ORDER BY at, seq")).map((r) => r.body);
    // The console's days are whole UTC days: [from 00:00, the day after `to` 00:00).
    const days = `${isoDay(Date.now() - DAY_MS)}T00:00:00.000Z/${isoDay(Date.now() + DAY_MS)}T00:00:00.000Z`;
    expect(reads.map((e) => [e.type, (e as { subject: string }).subject])).toEqual([
      ['audit_viewed', `calls?${days.replace(/^(.*)\/(.*)$/, 'from=$1&to=$2')}&outcome=contained`],
      ['audit_viewed', `call:${contained}`],
      ['audit_exported', `export:${days}`],
      ['audit_viewed', `verify:${days}`],
    ]);
    for (const e of reads) expect(e).toMatchObject({ actor: { type: 'reviewer', id: 'alice' }, sourceIp: '127.0.0.1' });
    await context.close();
  }, 60_000);

  it('when 15 minutes pass on the app’s clock with no request, then the next action lands on the sign-in page saying the session ended', async () => {
    const context = await browser.newContext();
    const { page, problems } = await watchedPage(context);
    await signIn(page, 'bob', REVIEWERS.bob);
    t.clock.advance(15 * 60_000 + 1000);
    await page.click('#search-button');
    await page.waitForURL(/\/ivr\/console\/sign-in\?ended=1$/);
    expect(await page.locator('#ended').isVisible()).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  }, 30_000);

  it('when a wrong secret is typed, then the sign-in page says so and stays', async () => {
    const context = await browser.newContext();
    const { page } = await watchedPage(context);
    await page.goto(`${consoleUrl}/sign-in`);
    await expect.poll(() => page.locator('#sign-in-button').isEnabled()).toBe(true);
    await page.fill('#name', 'alice');
    await page.fill('#secret', 'definitely-not-alices-secret');
    await page.click('#sign-in-button');
    await expect.poll(() => page.locator('#message').textContent()).toBe('Wrong reviewer name or secret.');
    expect(page.url()).toMatch(/\/ivr\/console\/sign-in$/);
    await context.close();
  }, 30_000);
});
