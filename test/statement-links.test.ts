import { Writable } from 'node:stream';
import express from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAudit } from '../src/audit/audit.js';
import { createMetrics } from '../src/audit/metrics.js';
import type { Sql } from '../src/audit/trail/sql.js';
import { freshAuditSql, TEST_DATA_SECRET } from './support/audit-db.js';
import { createStatementLinkRouter } from '../src/http/statement-links.js';
import { createLogger } from '../src/log/logger.js';
import { createScrubber } from '../src/log/scrub.js';
import { cryptoRandom, manualClock } from '../src/shared/clock.js';
import { createStatementLinks, type StatementLinkBinding, type StatementLinks } from '../src/statements/links.js';
import { createStore, type Store } from '../src/store/client.js';
import { createKeys } from '../src/store/keys.js';
import { freshPrefix } from './support/prefix.js';
import { STORE_KINDS, allKeys, openStore } from './support/store.js';
import { startRedisWithMovableClock, type ClockedRedis } from './support/store-clock.js';

const LINK_TTL_SECONDS = 600;
const ADA_OCTOBER: StatementLinkBinding = {
  customerId: 'cust_001',
  accountId: 'acc_001',
  period: '2026-10',
  file: 'cust_001/acc_001/2026-10.pdf',
  callId: 'CA0000000000000000000000000000a001',
};

interface SetupOptions {
  points?: number;
  statementUrl?: (file: string, filename: string) => Promise<string>;
  links?: (l: StatementLinks) => StatementLinks;
}

/**
 * The link router on a bare app, with its own key space, a fake presigner and captured logs. A
 * link's life is the store's clock; the app's (a manual one, for the audit) never moves here.
 */
function linkApp(store: Store, kind: 'redis' | 'embedded' | 'cluster', sql: Sql, options: SetupOptions = {}) {
  const prefix = freshPrefix('link');
  const keys = createKeys(prefix);
  const clock = manualClock();
  const logLines: string[] = [];
  const logger = createLogger({
    level: 'info',
    scrub: createScrubber(),
    destination: new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString('utf8'));
        cb();
      },
    }),
  });
  const audit = createAudit({ redis: store.redis, keys, logger, clock, metrics: createMetrics(), sql, dataSecret: TEST_DATA_SECRET, setting: 'AUDIT_DATABASE_URL', embeddedStore: kind === 'embedded' });
  const realLinks = createStatementLinks({ redis: store.redis, keys, random: cryptoRandom, ttlSeconds: LINK_TTL_SECONDS });
  const links = options.links ? options.links(realLinks) : realLinks;
  const presigned: { file: string; filename: string }[] = [];
  const statementUrl =
    options.statementUrl ??
    (async (file: string, filename: string) => {
      presigned.push({ file, filename });
      return `https://s3.test/statements/${file}?X-Amz-Expires=60&X-Amz-Signature=abc123`;
    });
  const app = express();
  app.use(
    '/s',
    createStatementLinkRouter({
      links,
      statementUrl,
      audit,
      logger,
      limiter: { redis: store.redis, keyPrefix: keys.limiter('link-ip'), ...(options.points ? { points: options.points } : {}) },
    }),
  );
  const storedEntries = async () => {
    const found: string[] = [];
    for (const key of await allKeys(store, `${prefix}*`)) {
      const type = await store.redis.type(key);
      const values = type === 'hash' ? Object.entries(await store.redis.hgetall(key)).flat() : type === 'list' ? await store.redis.lrange(key, 0, -1) : [String(await store.redis.get(key))];
      found.push(key, ...values);
    }
    return found;
  };
  return { app, links: realLinks, audit, presigned, logLines, prefix, storedEntries };
}

const expectPrivate = (res: request.Response) => {
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['x-robots-tag']).toMatch(/noindex/);
  expect(res.headers['referrer-policy']).toBe('no-referrer');
};

describe.each(STORE_KINDS)('single-use statement links (A8) on the %s store', (kind) => {
  let store: Store;
  let sql: Sql;
  beforeAll(async () => {
    store = await openStore(kind);
    sql = await freshAuditSql();
  });
  afterAll(async () => {
    await store.close();
    await sql.close();
  });

  const setup = (options: SetupOptions = {}) => linkApp(store, kind, sql, options);

  it('when the customer opens the link, then a page with a Download form shows, opening it again does not spend it, the download spends it once, and then it is gone', async () => {
    const s = setup();
    const before = Date.now();
    const { token, expiresAt } = await s.links.issue(ADA_OCTOBER);
    const after = Date.now();
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Buffer.from(token, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    // By the store's clock: this machine's (the embedded store's TIME rounds to whole seconds).
    expect(expiresAt).toBeGreaterThanOrEqual(before - 1500 + LINK_TTL_SECONDS * 1000);
    expect(expiresAt).toBeLessThanOrEqual(after + 1500 + LINK_TTL_SECONDS * 1000);

    const preview = await request(s.app).get(`/s/${token}`);
    expect(preview.status).toBe(200);
    expect(preview.headers['content-type']).toMatch(/^text\/html/);
    expectPrivate(preview);
    expect(preview.text).toMatch(/<form method="post">/);
    expect(preview.text).toMatch(/<button type="submit">Download statement/);
    expect(preview.text).not.toContain(token);
    expect(preview.text).not.toMatch(/<script|<link|https?:\/\//i);
    expect((await request(s.app).get(`/s/${token}`)).status).toBe(200);

    const download = await request(s.app).post(`/s/${token}`).type('form').send('');
    expect(download.status).toBe(303);
    expect(download.headers.location).toBe('https://s3.test/statements/cust_001/acc_001/2026-10.pdf?X-Amz-Expires=60&X-Amz-Signature=abc123');
    expectPrivate(download);
    expect(download.text).toBe('');
    expect(s.presigned).toEqual([{ file: ADA_OCTOBER.file, filename: 'vaultline-statement-2026-10.pdf' }]);

    const again = await request(s.app).post(`/s/${token}`);
    expect(again.status).toBe(410);
    expectPrivate(again);
    expect((await request(s.app).get(`/s/${token}`)).status).toBe(410);
    expect(s.presigned).toHaveLength(1);

    const events = (await s.audit.timeline(ADA_OCTOBER.callId)) ?? [];
    expect(events.map((e) => [e.type, 'reason' in e ? e.reason : undefined])).toEqual([
      ['statement_link_spent', undefined],
      ['statement_link_refused', 'spent'],
    ]);
    expect(JSON.stringify(events)).not.toContain(token);
    expect(s.logLines.join('\n')).not.toContain(token);
  });

  it('when a token has the wrong shape or bad percent-encoding, then it is refused the same 410 without touching the store', async () => {
    let storeCalls = 0;
    const s = setup({
      links: (real) => ({
        issue: real.issue,
        revoke: real.revoke,
        peek: (t) => (storeCalls++, real.peek(t)),
        spend: (t) => (storeCalls++, real.spend(t)),
        trySpend: (t) => (storeCalls++, real.trySpend(t)),
      }),
    });
    const gone = (await request(s.app).get('/s/not-a-link')).text;
    for (const bad of ['short', 'x'.repeat(33), `${'a'.repeat(31)}!`, `${'a'.repeat(31)}%2F`, '%E0%A4%A', `${'a'.repeat(30)}%E0%A4%A`, '%ZZ']) {
      for (const method of ['get', 'post'] as const) {
        const res = await request(s.app)[method](`/s/${bad}`);
        expect(res.status).toBe(410);
        expect(res.text).toBe(gone);
      }
    }
    expect(storeCalls).toBe(0);
    // Not even the rate limiter counted them.
    expect(await allKeys(store, `${s.prefix}*`)).toEqual([]);
  });

  it('when ten downloads of one link race, then exactly one gets the document', async () => {
    const s = setup();
    const { token } = await s.links.issue(ADA_OCTOBER);
    const answers = await Promise.all(Array.from({ length: 10 }, () => request(s.app).post(`/s/${token}`)));
    expect(answers.filter((r) => r.status === 303)).toHaveLength(1);
    expect(answers.filter((r) => r.status === 410)).toHaveLength(9);
    expect(s.presigned).toHaveLength(1);
  });

  it('when ten spends of one link race in the store, then exactly one returns the binding', async () => {
    const s = setup();
    const { token } = await s.links.issue(ADA_OCTOBER);
    const results = await Promise.all(Array.from({ length: 10 }, () => s.links.spend(token)));
    expect(results.filter((r) => r !== null)).toEqual([ADA_OCTOBER]);
  });

  it('when links are stored, then the store holds only hashes of their tokens, never a token', async () => {
    const s = setup();
    const tokens = await Promise.all([1, 2, 3].map(() => s.links.issue(ADA_OCTOBER).then((l) => l.token)));
    await request(s.app).get(`/s/${tokens[0] as string}`);
    await request(s.app).post(`/s/${tokens[1] as string}`);
    const entries = await s.storedEntries();
    expect(entries.filter((e) => e.startsWith(`${s.prefix}link:`))).toHaveLength(3);
    for (const token of tokens) for (const entry of entries) expect(entry).not.toContain(token);
  });

  it('when a link is revoked (the SMS could not be sent), then it is gone', async () => {
    const s = setup();
    const { token } = await s.links.issue(ADA_OCTOBER);
    expect(await s.links.peek(token)).toBe('live');
    await s.links.revoke(token);
    expect(await s.links.peek(token)).toBe('gone');
    expect((await request(s.app).post(`/s/${token}`)).status).toBe(410);
  });

  it('when one address keeps trying links, then it gets 429 with Retry-After and no spend', async () => {
    const s = setup({ points: 3 });
    const { token } = await s.links.issue(ADA_OCTOBER);
    for (let i = 0; i < 3; i++) expect((await request(s.app).get(`/s/${cryptoRandom.bytes(24).toString('base64url')}`)).status).toBe(410);
    const limited = await request(s.app).post(`/s/${token}`);
    expect(limited.status).toBe(429);
    expectPrivate(limited);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.text).toMatch(/Too many attempts/);
    expect(await s.links.peek(token)).toBe('live');
  });

  it('when the caller reads Spanish, then the pages are in Spanish', async () => {
    const s = setup();
    const { token } = await s.links.issue(ADA_OCTOBER);
    const page = await request(s.app).get(`/s/${token}`).set('Accept-Language', 'es-US,es;q=0.9');
    expect(page.text).toMatch(/<html lang="es">/);
    expect(page.text).toMatch(/Descargar estado de cuenta/);
  });

  it('when the statement store fails after the spend, then a 503 page answers and no URL or token leaks into it or the logs', async () => {
    const s = setup({
      statementUrl: async () => {
        throw new Error('storage unreachable');
      },
    });
    const { token } = await s.links.issue(ADA_OCTOBER);
    const res = await request(s.app).post(`/s/${token}`);
    expect(res.status).toBe(503);
    expectPrivate(res);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toMatch(/cannot get your statement right now/);
    expect(s.logLines.join('\n')).toMatch(/statement link request failed/);
    expect(s.logLines.join('\n')).not.toContain(token);
  });
});

/**
 * A link's life is the store's clock (DESIGN B2, like a session's): these move the store's clock,
 * never the app's. Real Redis runs under libfaketime; the embedded store lives in this process, so
 * its clock is this process's Date. (The Cluster's nodes are not moved; the scripts are the same.)
 */
describe.each(['redis', 'embedded'] as const)("a statement link's life by the %s store's clock", (kind) => {
  let store: Store;
  let server: ClockedRedis | undefined;
  let sql: Sql;
  let storeClock: { advance(ms: number): void };

  beforeAll(async () => {
    sql = await freshAuditSql();
    if (kind === 'redis') {
      server = await startRedisWithMovableClock();
      store = await createStore({ kind: 'redis', url: server.url });
      storeClock = server;
    } else {
      store = await createStore({ kind: 'embedded' });
      storeClock = { advance: (ms) => vi.setSystemTime(Date.now() + ms) };
    }
  });
  afterAll(async () => {
    await store.close();
    await server?.stop();
    await sql.close();
  });
  beforeEach(() => {
    if (kind === 'embedded') vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const setup = (options: SetupOptions = {}) => linkApp(store, kind, sql, options);

  it("when the store's clock passes LINK_TTL_SECONDS, then the page and the download answer the same 410 as an unknown or malformed link, and the refusal is audited as expired", async () => {
    const s = setup();
    const { token } = await s.links.issue(ADA_OCTOBER);
    const spent = (await s.links.issue(ADA_OCTOBER)).token;
    expect((await request(s.app).post(`/s/${spent}`)).status).toBe(303);
    storeClock.advance(LINK_TTL_SECONDS * 1000 + 1000);

    const expiredGet = await request(s.app).get(`/s/${token}`);
    const expiredPost = await request(s.app).post(`/s/${token}`);
    const spentPost = await request(s.app).post(`/s/${spent}`);
    const unknownPost = await request(s.app).post(`/s/${cryptoRandom.bytes(24).toString('base64url')}`);
    const malformedGet = await request(s.app).get('/s/not-a-link');
    for (const res of [expiredGet, expiredPost, spentPost, unknownPost, malformedGet]) {
      expect(res.status).toBe(410);
      expectPrivate(res);
      expect(res.text).toBe(expiredPost.text);
    }
    expect(expiredPost.text).toMatch(/already been used or has expired/);
    expect(s.presigned).toHaveLength(1);
    const refused = ((await s.audit.timeline(ADA_OCTOBER.callId)) ?? []).filter((e) => e.type === 'statement_link_refused');
    expect(refused.map((e) => ('reason' in e ? e.reason : undefined))).toEqual(['expired', 'spent']);
  });

  it("when the store's clock is short of LINK_TTL_SECONDS, then the link is live and spends, however far on it is", async () => {
    const s = setup();
    const { token } = await s.links.issue(ADA_OCTOBER);
    storeClock.advance(LINK_TTL_SECONDS * 1000 - 2000);
    expect(await s.links.peek(token)).toBe('live');
    expect((await request(s.app).get(`/s/${token}`)).status).toBe(200);
    expect(await s.links.spend(token)).toEqual(ADA_OCTOBER);
  });
});
