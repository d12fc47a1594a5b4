import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../scripts/lib/redis-server.js';
import { migrate } from '../src/audit/trail/schema.js';
import { postgresSql, type Sql } from '../src/audit/trail/sql.js';
import { freshAuditSchema } from './support/audit-db.js';
import { seedEvents } from './support/audit-seed.js';
import { FIXTURE_FLOWS_DIR } from './support/flows.js';
import { streamGet } from './support/http-stream.js';
import { startMain, waitForStatus, type MainProcess } from './support/main-process.js';
import { freshPrefix } from './support/prefix.js';

/**
 * Issue 14 acceptance: an export of 100,000 events streams from the app started as an operator
 * starts it (`src/main.ts`, production settings, real Redis and PostgreSQL) with a 64 MB heap: the
 * events as text are several times what fits there, so only a constant-memory stream gets through.
 */

const DAY = '2026-10-15';
const EVENTS = 100_000;
const DATA_SECRET = 'export-test-data-secret-of-32-characters-at-least';
const REVIEWER = { name: 'auditor', secret: 'export-test-reviewer-secret-5Tq8' };

let sql: Sql;
let app: MainProcess;
let origin = '';

beforeAll(async () => {
  const { url } = await freshAuditSchema();
  sql = postgresSql(url, { max: 2 });
  await migrate(sql);
  await seedEvents(sql, DAY, EVENTS, DATA_SECRET);
  const port = await freePort();
  app = startMain(
    {
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: 'https://ivr.example.com',
      DATA_SECRET,
      TWILIO_ACCOUNT_SID: 'AC' + '7'.repeat(32),
      TWILIO_AUTH_TOKEN: 'export-test-twilio-token-0123',
      TWILIO_SMS_FROM: '+15005550006',
      ADMIN_API_KEY: 'export-test-admin-key-0123456789',
      API_CLIENTS: 'genesys:export-test-client-secret-0123',
      AUDIT_REVIEWERS: `${REVIEWER.name}:${REVIEWER.secret}`,
      TOKEN_SIGNING_KEYS: JSON.stringify([{ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'k1' }]),
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: freshPrefix('export-mem'),
      BANK_DATA_FILE: 'data/demo-bank.json',
      STATEMENTS_DIR: 'data/statements',
      FLOWS_DIR: FIXTURE_FLOWS_DIR,
      AUDIT_DATABASE_URL: url,
      LOG_LEVEL: 'warn',
    },
    { args: ['--max-old-space-size=64', '--import', 'tsx', 'src/main.ts'] },
  );
  origin = `http://127.0.0.1:${port}`;
  expect(await waitForStatus(`${origin}/readyz`, 200, 60_000)).toBe(200);
}, 300_000);
afterAll(async () => {
  await app?.stop();
  await sql?.close();
});

describe('a month-sized export with a 64 MB heap', () => {
  it('when a reviewer exports 100,000 events, then every line arrives, the stream ends with export_end and its count, and the app lives on', { timeout: 300_000 }, async () => {
    const authorization = `Basic ${Buffer.from(`${REVIEWER.name}:${REVIEWER.secret}`).toString('base64')}`;
    const res = await streamGet(`${origin}/admin/v1/audit/export?from=${DAY}&to=2026-10-16`, { Authorization: authorization });

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(res.complete).toBe(true);
    expect(res.lines).toBe(EVENTS + 1);
    expect(res.lastLine).toBe(`{"type":"export_end","count":${EVENTS}}`);

    // Not crashed, not restarted: the same process answers, then stops cleanly.
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);
    expect(await app.stop()).toBe(0);
    expect(app.output().stderr).not.toMatch(/heap out of memory|FATAL ERROR|Allocation failed/i);
    // The export itself was recorded, by the reviewer.
    const [row] = await sql.query<{ subject: string; actor: string }>(`SELECT body->>'subject' AS subject, body->'actor'->>'id' AS actor FROM audit_events WHERE type = 'audit_exported'`);
    expect(row).toEqual({ subject: `export:${DAY}T00:00:00.000Z/2026-10-16T00:00:00.000Z`, actor: REVIEWER.name });
  });
});
