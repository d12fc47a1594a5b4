import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createApp } from '../src/app.js';
import { buildDeps } from '../src/compose.js';
import { loadConfig } from '../src/config/load.js';
import { freshPrefix } from './support/prefix.js';
import { freePort } from '../scripts/lib/redis-server.js';
import { startMain } from './support/main-process.js';
import { FIXTURE_FLOWS_DIR } from './support/flows.js';

const PROD_SECRETS = {
  TWILIO_ACCOUNT_SID: 'AC' + '1'.repeat(32),
  TWILIO_AUTH_TOKEN: 'prod-token-0123456789',
  TWILIO_SMS_FROM: '+15005550006',
  PUBLIC_BASE_URL: 'https://ivr.example.com',
  DATA_SECRET: 'prod-data-secret-of-at-least-32-characters',
  ADMIN_API_KEY: 'prod-admin-key-0123456789',
  API_CLIENTS: 'genesys:prod-secret-0123456789',
  AUDIT_REVIEWERS: 'reviewer:prod-reviewer-secret-0123456789',
  TOKEN_SIGNING_KEYS: JSON.stringify([{ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'k1' }]),
  BANK_DATA_FILE: 'data/demo-bank.json',
  STATEMENTS_DIR: 'data/statements',
};

describe('start-up', () => {
  it('when started with no settings at all, then `npm start` runs on embedded defaults and answers /healthz', async () => {
    const port = await freePort();
    const app = startMain({ PORT: String(port), LOG_LEVEL: 'warn' });
    try {
      let status = 0;
      for (let i = 0; i < 200 && status !== 200; i++) {
        status = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0);
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      expect(app.output().stdout).toContain(`/dev`);
    } finally {
      expect(await app.stop()).toBe(0);
    }
  });

  it('when a flow file is broken, then start-up fails naming the file and the node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vl-flows-'));
    const flow = parse(readFileSync(join(FIXTURE_FLOWS_DIR, 'main.yaml'), 'utf8')) as { nodes: Record<string, { kind: string }> };
    const menu = flow.nodes['main-menu'];
    if (!menu) throw new Error('the shipped flow lost its main-menu node');
    menu.kind = 'menuu';
    writeFileSync(join(dir, 'main.yaml'), stringify(flow));
    const app = startMain({ PORT: String(await freePort()), FLOWS_DIR: dir });
    expect(await app.exited).toBe(1);
    expect(app.output().stderr).toMatch(/main\.yaml/);
    expect(app.output().stderr).toMatch(/main-menu/);
  });

  it('when running in production, then /dev and the built-in simulator are not there (404)', async () => {
    const config = loadConfig({ ...PROD_SECRETS, NODE_ENV: 'production', AUDIT_DATABASE_URL: inject('auditDatabaseUrl'), REDIS_URL: inject('redisUrl'), REDIS_KEY_PREFIX: freshPrefix('prod'), LOG_LEVEL: 'silent' });
    const built = await buildDeps(config);
    try {
      const app = createApp(built.deps);
      expect((await request(app).get('/dev')).status).toBe(404);
      expect((await request(app).post(`/simulator/twilio/2010-04-01/Accounts/${PROD_SECRETS.TWILIO_ACCOUNT_SID}/Messages.json`)).status).toBe(404);
      expect((await request(app).get('/healthz')).status).toBe(200);
    } finally {
      await built.close();
    }
  });
});
