import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../src/audit/events.js';
import { caller, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { AUDIT_REVIEWERS, REVIEWERS, reviewerBrowser, setCookies } from './support/console.js';

/**
 * Issue 14 item 6 (DESIGN A11): the compliance console over HTTP, real Redis and real PostgreSQL
 * behind it: its session cookie, CSRF refusals, headers, idle expiry on the injected clock, the
 * sign-in failure limit, sign-out, and every read recorded with the reviewer as actor.
 */

let t: TestApp;
const MINUTE = 60_000;
let addressCounter = 0;
/** A documentation address (RFC 5737) no other test of this file uses. */
const freshAddress = () => `198.51.100.${(addressCounter += 1)}`;

beforeAll(async () => {
  t = await startTestApp({ env: { AUDIT_REVIEWERS, TRUST_PROXY: '1' } });
});
afterAll(async () => {
  await t.close();
});

async function auditReads(): Promise<AuditEvent[]> {
  await t.built.deps.audit.drainNow();
  const rows = await t.auditSql.query<{ body: AuditEvent }>("SELECT body FROM audit_events WHERE type IN ('audit_viewed', 'audit_exported') ORDER BY at, seq");
  return rows.map((r) => r.body);
}

describe('signing in', () => {
  it('when a reviewer signs in, then the session cookie is HttpOnly, Secure, SameSite=Strict on the console path, 256 random bits, and the store holds only its hash', async () => {
    const browser = reviewerBrowser(t.app, freshAddress());
    const res = await browser.signIn('alice', REVIEWERS.alice);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ reviewer: 'alice', csrf: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const cookie = setCookies(res).get('__Secure-vl_console');
    expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // PUBLIC_BASE_URL is https://ivr.bank.test/ivr: the browser sees the console under /ivr.
    expect(cookie?.attributes).toEqual(expect.arrayContaining(['Path=/ivr/console', 'HttpOnly', 'Secure', 'SameSite=Strict']));
    expect(cookie?.attributes.some((a) => /^(Max-Age|Expires)=/i.test(a))).toBe(false);

    const id = cookie?.value ?? '';
    const keys = await t.built.deps.store.redis.keys(`${t.config.keyPrefix}console:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).not.toContain(id);
      expect(await t.built.deps.store.redis.get(key)).not.toContain(id);
    }
    // The sign-in form's nonce is spent.
    expect(setCookies(res).get('__Secure-vl_console_sign_in')?.value).toBe('');
    expect((await browser.api('/console/api/session')).body).toMatchObject({ reviewer: 'alice' });
  });

  it('when the secret or the name is wrong, then the answer is the same 401 with a clear message and neither the name nor the secret reaches the log', async () => {
    const browser = reviewerBrowser(t.app, freshAddress());
    const wrongSecret = await browser.signIn('alice', 'not-the-secret-of-alice');
    const unknown = await browser.signIn('mallory-typed-a-secret', REVIEWERS.alice);
    for (const res of [wrongSecret, unknown]) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'unauthorized', message: 'Wrong reviewer name or secret.' });
      expect(setCookies(res).has('__Secure-vl_console')).toBe(false);
    }
    expect(t.rawLogs.join('\n')).not.toMatch(/not-the-secret-of-alice|mallory-typed-a-secret/);
    expect(t.rawLogs.join('\n')).not.toContain(REVIEWERS.alice);
  });
});

describe('headers and pages', () => {
  it('when any console page, file or answer is served, then it carries the strict CSP, nosniff, no-referrer and no-store', async () => {
    const browser = reviewerBrowser(t.app, freshAddress());
    await browser.signIn('alice', REVIEWERS.alice);
    const answers = {
      '/console/sign-in': await browser.get('/console/sign-in'),
      '/console/calls': await browser.get('/console/calls'),
      '/console/assets/console.js': await browser.get('/console/assets/console.js'),
      '/console/assets/console.css': await browser.get('/console/assets/console.css'),
      '/console/api/session': await browser.api('/console/api/session'),
      '/console/api/calls': await browser.api('/console/api/calls'),
    };
    for (const [path, res] of Object.entries(answers)) {
      expect(res.status, path).toBe(200);
      expect(res.headers['content-security-policy']).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      );
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('when the pages are read, then they hold no inline script, no inline style and no innerHTML', () => {
    const dir = 'src/console/public';
    for (const name of ['sign-in.html', 'console.html']) {
      const html = readFileSync(`${dir}/${name}`, 'utf8');
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    }
    for (const name of readdirSync(`${dir}/assets`).filter((f) => f.endsWith('.js'))) {
      expect(readFileSync(`${dir}/assets/${name}`, 'utf8')).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    }
  });

  it('when /console is opened without a session, then it leads to the sign-in page (relative, so it stays under a proxy prefix)', async () => {
    const browser = reviewerBrowser(t.app, freshAddress());
    const root = await browser.get('/console');
    expect(root.status).toBe(303);
    expect(root.headers.location).toBe('console/calls');
    const calls = await browser.get('/console/calls');
    expect(calls.status).toBe(303);
    expect(calls.headers.location).toBe('sign-in');
    expect((await browser.get('/console/sign-in')).text).toContain('Sign in as a reviewer');
  });
});

describe('CSRF', () => {
  it('when a sign-in comes without the sign-in page token, or with another browser’s, then it is 403 and no session is opened', async () => {
    const browser = reviewerBrowser(t.app, freshAddress());
    const bare = await browser.post('/console/api/sign-in', { name: 'alice', secret: REVIEWERS.alice });
    expect(bare.status).toBe(403);
    const other = reviewerBrowser(t.app, freshAddress());
    const othersToken = ((await other.get('/console/api/sign-in-token')).body as { csrf: string }).csrf;
    await browser.get('/console/api/sign-in-token');
    const crossed = await browser.post('/console/api/sign-in', { name: 'alice', secret: REVIEWERS.alice }, { 'X-CSRF-Token': othersToken });
    expect(crossed.status).toBe(403);
    for (const res of [bare, crossed]) expect(setCookies(res).has('__Secure-vl_console')).toBe(false);
  });

  it('when a signed-in request lacks the session’s CSRF token, then reads, export and sign-out are 403, nothing is read or recorded, and the session lives on', async () => {
    const browser = reviewerBrowser(t.app, freshAddress());
    await browser.signIn('bob', REVIEWERS.bob);
    const before = (await auditReads()).length;
    const search = await browser.get('/console/api/calls');
    const verify = await browser.get(`/console/api/verify?from=${new Date(t.clock.now() - 3600_000).toISOString()}&to=${new Date(t.clock.now()).toISOString()}`);
    const exported = await browser.post('/console/api/export', `from=2026-01-01T00:00:00.000Z&to=2026-01-02T00:00:00.000Z&csrf=${'x'.repeat(43)}`);
    const signOut = await browser.post('/console/api/sign-out', {}, { 'X-CSRF-Token': 'wrong' });
    for (const res of [search, verify, exported, signOut]) expect(res.status).toBe(403);
    expect(exported.text).not.toContain('export_end');
    expect((await auditReads()).length).toBe(before);
    expect((await browser.api('/console/api/session')).status).toBe(200);
  });

  it('when the browser says a request comes from another site, then the API refuses it even with the cookie and the token', async () => {
    const browser = reviewerBrowser(t.app, freshAddress());
    await browser.signIn('alice', REVIEWERS.alice);
    const res = await browser.get('/console/api/calls', { 'X-CSRF-Token': browser.csrf, 'Sec-Fetch-Site': 'cross-site' });
    expect(res.status).toBe(403);
  });
});

describe('idle expiry (injected clock)', () => {
  it('when 15 minutes pass without a request, then the session is over; activity before that keeps it alive', async () => {
    const browser = reviewerBrowser(t.app, freshAddress());
    await browser.signIn('alice', REVIEWERS.alice);
    const id = browser.cookies.get('__Secure-vl_console') ?? '';
    t.clock.advance(14 * MINUTE);
    expect((await browser.api('/console/api/calls')).status).toBe(200);
    t.clock.advance(14 * MINUTE);
    expect((await browser.get('/console/calls')).status).toBe(200);
    t.clock.advance(15 * MINUTE + 1000);
    const expired = await browser.api('/console/api/calls');
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ error: 'unauthorized', message: expect.stringMatching(/15 minutes/) });
    // The same cookie again (it was cleared, the store forgot it anyway): still refused.
    const page = await browser.get('/console/calls', { Cookie: `__Secure-vl_console=${id}` });
    expect(page.status).toBe(303);
  });
});

describe('the sign-in failure limit (10 per 15 minutes per reviewer and per address)', () => {
  it('when a reviewer’s name has failed 10 times from many addresses, then the 11th attempt is refused even with the right secret, from anywhere, until the window passes', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await reviewerBrowser(t.app, freshAddress()).signIn('bob', `wrong-secret-${i}-0123456789`)).status).toBe(401);
    }
    const refused = await reviewerBrowser(t.app, freshAddress()).signIn('bob', REVIEWERS.bob);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: 'locked', message: expect.stringMatching(/^Too many failed sign-ins for this reviewer or from this address\. Try again in \d+ minutes?\.$/) });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another reviewer is not locked by it.
    expect((await reviewerBrowser(t.app, freshAddress()).signIn('alice', REVIEWERS.alice)).status).toBe(200);
    t.clock.advance(15 * MINUTE);
    expect((await reviewerBrowser(t.app, freshAddress()).signIn('bob', REVIEWERS.bob)).status).toBe(200);
  });

  it('when one address has failed 10 times with any names, then its 11th sign-in is refused even for a right credential, and other addresses are not', async () => {
    const address = freshAddress();
    for (let i = 0; i < 10; i++) {
      expect((await reviewerBrowser(t.app, address).signIn(`guess${i}`, 'wrong-secret-0123456789')).status).toBe(401);
    }
    expect((await reviewerBrowser(t.app, address).signIn('alice', REVIEWERS.alice)).status).toBe(429);
    expect((await reviewerBrowser(t.app, freshAddress()).signIn('alice', REVIEWERS.alice)).status).toBe(200);
  });

  it('when successful sign-ins come between, then they do not count: only failures do', async () => {
    const address = freshAddress();
    for (let i = 0; i < 9; i++) expect((await reviewerBrowser(t.app, address).signIn('alice', 'wrong-secret-0123456789')).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await reviewerBrowser(t.app, address).signIn('alice', REVIEWERS.alice)).status).toBe(200);
    expect((await reviewerBrowser(t.app, address).signIn('alice', 'wrong-secret-0123456789')).status).toBe(401);
    expect((await reviewerBrowser(t.app, address).signIn('alice', REVIEWERS.alice)).status).toBe(429);
    t.clock.advance(15 * MINUTE);
  });

  it('when 25 wrong sign-ins for one reviewer arrive at once, then at most 10 secrets are checked (401) and the rest are 429', async () => {
    t.clock.advance(15 * MINUTE);
    const answers = await Promise.all(Array.from({ length: 25 }, () => reviewerBrowser(t.app, freshAddress()).signIn('alice', 'wrong-secret-0123456789')));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(15);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    t.clock.advance(15 * MINUTE);
  });
});

describe('reading the trail through the console', () => {
  it('when a reviewer searches, opens a timeline, verifies and exports, then each read is an audit event with the reviewer, the address and the subject', async () => {
    const address = freshAddress();
    const browser = reviewerBrowser(t.app, address);
    expect((await browser.signIn('alice', REVIEWERS.alice)).status).toBe(200);
    const call = caller(t, { from: '+14155550777' });
    await call.dial();
    await call.press('0');
    await call.hangUp();
    await t.built.deps.audit.drainNow();

    const from = new Date(t.clock.now() - 24 * 3600_000).toISOString();
    const to = new Date(Date.now() + 3600_000).toISOString();
    const found = await browser.api(`/console/api/calls?from=${from}&to=${to}&outcome=transferred&verified=false`);
    expect(found.status).toBe(200);
    const calls = (found.body as { calls: { callId: string; maskedCaller: string; outcome: string }[] }).calls;
    expect(calls.find((c) => c.callId === call.callSid)).toMatchObject({ maskedCaller: '+…0777', outcome: 'transferred' });
    const other = await browser.api(`/console/api/calls?from=${from}&to=${to}&outcome=contained`);
    expect((other.body as { calls: { callId: string }[] }).calls.some((c) => c.callId === call.callSid)).toBe(false);

    const timeline = await browser.api(`/console/api/calls/${call.callSid}/events`);
    expect(timeline.status).toBe(200);
    const rows = (timeline.body as { rows: { type: string; event: string; outcome: string; actor: string; details: string }[] }).rows;
    expect(rows.map((r) => r.type)).toEqual(['call_started', 'transfer', 'call_ended']);
    expect(rows[0]).toMatchObject({ event: 'Call started', actor: '—', details: expect.stringContaining('maskedCaller: +…0777') });
    expect(rows[2]).toMatchObject({ event: 'Call ended', outcome: 'transferred' });
    expect(JSON.stringify(timeline.body)).not.toContain('4155550777');
    expect((await browser.api('/console/api/calls/CA-never-seen/events')).status).toBe(404);

    const verify = await browser.api(`/console/api/verify?from=${from}&to=${to}`);
    expect(verify.body).toMatchObject({ ok: true, checked: expect.any(Number) });

    const exported = await browser.post('/console/api/export', new URLSearchParams({ from, to, csrf: browser.csrf }).toString());
    expect(exported.status).toBe(200);
    expect(exported.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(exported.headers['content-disposition']).toMatch(/^attachment; filename="audit-.*\.ndjson"$/);
    const lines = exported.text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; callId?: string; count?: number });
    expect(lines.at(-1)).toEqual({ type: 'export_end', count: lines.length - 1 });
    expect(lines.filter((l) => l.callId === call.callSid).map((l) => l.type)).toEqual(['call_started', 'transfer', 'call_ended']);
    expect(exported.text).not.toContain('4155550777');

    const reads = (await auditReads()).filter((e) => (e as { sourceIp?: string }).sourceIp === address);
    // Subjects as /admin/v1 writes them (src/audit/reads.ts): the search as asked, the call, the range.
    expect(reads.map((e) => [e.type, (e as { subject: string }).subject])).toEqual([
      ['audit_viewed', `calls?from=${from}&to=${to}&outcome=transferred&verified=false`],
      ['audit_viewed', `calls?from=${from}&to=${to}&outcome=contained`],
      ['audit_viewed', `call:${call.callSid}`],
      ['audit_viewed', `verify:${from}/${to}`],
      ['audit_exported', `export:${from}/${to}`],
    ]);
    for (const e of reads) expect(e).toMatchObject({ actor: { type: 'reviewer', id: 'alice' }, sourceIp: address });
    // Reads belong to no call's timeline.
    expect((await browser.api(`/console/api/calls/${call.callSid}/events`)).body.rows).toHaveLength(3);
  });

  it('when an export is posted without a session, then the browser is sent to the sign-in page and nothing is exported', async () => {
    const browser = reviewerBrowser(t.app, freshAddress());
    const res = await browser.post('/console/api/export', 'from=2026-01-01T00:00:00.000Z&to=2026-01-02T00:00:00.000Z&csrf=x');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('../sign-in');
  });
});

describe('masked values only', () => {
  it('when a verified caller has a statement sent, then the console’s search, timeline and export carry no code, link, full number or secret in any form', async () => {
    const device = await enrollDevice(t);
    const call = caller(t, { from: '+14155550666' });
    await call.dial();
    const did = spokenCode(await call.press('2')) ?? '';
    expect((await device.confirm(did)).status).toBe(200);
    const update = t.twilioFake.callUpdates().find((u) => u.path.endsWith(`/Calls/${call.callSid}.json`));
    await call.fetch(update?.form.Url ?? '');
    await call.press('1');
    await call.hangUp();
    const sms = t.twilioFake.messages().at(-1)?.form.Body ?? '';
    const link = /\/s\/([A-Za-z0-9_-]+)/.exec(sms)?.[1] ?? '';
    expect(did).toMatch(/^\d{6}$/);
    expect(link.length).toBeGreaterThanOrEqual(22);
    await t.built.deps.audit.drainNow();

    const browser = reviewerBrowser(t.app, freshAddress());
    await browser.signIn('alice', REVIEWERS.alice);
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 3600_000).toISOString();
    const search = await browser.api(`/console/api/calls?from=${from}&to=${to}&verified=true`);
    const timeline = await browser.api(`/console/api/calls/${call.callSid}/events`);
    const exported = await browser.post('/console/api/export', new URLSearchParams({ from, to, csrf: browser.csrf }).toString());
    expect(timeline.text).toContain('Statement SMS sent');
    expect(timeline.text).toContain('••••0101');
    expect(exported.text).toContain('"statement_sms_sent"');

    // Each value, and a number also as its bare digits, spaced or grouped by four; the code only free-standing.
    const watched = { code: did, link, caller: '+14155550666', mobile: '+14155550101', account: '4000123412349876', alice: REVIEWERS.alice, bob: REVIEWERS.bob };
    for (const [label, text] of Object.entries({ search: search.text, timeline: timeline.text, exported: exported.text })) {
      for (const [what, value] of Object.entries(watched)) {
        const digits = value.replace(/\D/g, '');
        const forms = /^\+?\d{6,}$/.test(value) && digits.length > 6 ? [value, digits, [...digits].join(' '), digits.replace(/(\d{4})(?=\d)/g, '$1-'), digits.slice(0, -4)] : [value];
        for (const f of forms) {
          const hit = /^\d{6}$/.test(f) ? new RegExp(`(?<![0-9A-Za-z])${f}(?![0-9A-Za-z])`).test(text) : text.includes(f);
          expect(hit, `${what} in the ${label}`).toBe(false);
        }
      }
    }
  });
});

describe('signing out', () => {
  it('when a reviewer signs out, then the cookie is cleared and the same session in a second tab is refused: the page leads to sign-in, the API is 401', async () => {
    const tab1 = reviewerBrowser(t.app, freshAddress());
    await tab1.signIn('alice', REVIEWERS.alice);
    const id = tab1.cookies.get('__Secure-vl_console') ?? '';
    const tab2 = reviewerBrowser(t.app, freshAddress());
    for (const [k, v] of tab1.cookies) tab2.cookies.set(k, v);
    tab2.csrf = tab1.csrf;
    expect((await tab2.api('/console/api/calls')).status).toBe(200);

    const out = await tab1.signOut();
    expect(out.status).toBe(204);
    const cleared = setCookies(out).get('__Secure-vl_console');
    expect(cleared?.value).toBe('');
    expect(cleared?.attributes).toEqual(expect.arrayContaining(['Path=/ivr/console', 'HttpOnly', 'Secure', 'SameSite=Strict']));

    const page = await tab2.get('/console/calls');
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('sign-in');
    tab2.cookies.set('__Secure-vl_console', id);
    expect((await tab2.api('/console/api/calls')).status).toBe(401);
    expect((await tab2.signOut()).status).toBe(401);
  });
});
