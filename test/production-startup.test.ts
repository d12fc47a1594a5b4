import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { freePort } from '../scripts/lib/redis-server.js';
import { startMain, waitForStatus } from './support/main-process.js';
import { freshPrefix } from './support/prefix.js';

/** Every setting production requires, valid; each test takes some away or spoils some. */
function productionEnv(): Record<string, string> {
  return {
    NODE_ENV: 'production',
    PUBLIC_BASE_URL: 'https://ivr.example.com',
    DATA_SECRET: 'prod-data-secret-of-at-least-32-characters',
    TWILIO_ACCOUNT_SID: 'AC' + '3'.repeat(32),
    TWILIO_AUTH_TOKEN: 'prod-twilio-token-0123456789',
    TWILIO_SMS_FROM: '+15005550006',
    ADMIN_API_KEY: 'prod-admin-key-0123456789',
    API_CLIENTS: 'genesys:prod-secret-0123456789',
    AUDIT_REVIEWERS: 'reviewer:prod-reviewer-secret-0123456789',
    TOKEN_SIGNING_KEYS: JSON.stringify([{ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'k1' }]),
    REDIS_URL: inject('redisUrl'),
    REDIS_KEY_PREFIX: freshPrefix('prod-start'),
    BANK_DATA_FILE: 'data/demo-bank.json',
    STATEMENTS_DIR: 'data/statements',
    AUDIT_DATABASE_URL: inject('auditDatabaseUrl'),
    LOG_LEVEL: 'warn',
  };
}

/** The lines of a refused start-up: the heading first, then one problem per line. */
async function refusedStart(env: Record<string, string>): Promise<string[]> {
  const app = startMain(env);
  expect(await app.exited).toBe(1);
  const { stdout, stderr } = app.output();
  expect(stdout).toBe('');
  const lines = stderr.trim().split('\n');
  expect(lines.filter((l) => /^\s+at\s/.test(l) || /Error:/.test(l))).toEqual([]); // no stack trace
  expect(lines[0]).toMatch(/^Vaultline IVR cannot start/);
  return lines.slice(1).map((l) => l.trim());
}

const secretsDir = mkdtempSync(join(tmpdir(), 'vl-prod-secrets-'));
function secretFile(name: string, content: string): string {
  const path = join(secretsDir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

describe('production start-up refuses what it cannot run safely', () => {
  it('when production starts with nothing set, then it exits 1 naming each required setting on a line of its own, with no stack trace', async () => {
    const problems = await refusedStart({ NODE_ENV: 'production' });

    for (const name of [
      'PUBLIC_BASE_URL',
      'DATA_SECRET',
      'TWILIO_ACCOUNT_SID',
      'TWILIO_AUTH_TOKEN',
      'TWILIO_SMS_FROM',
      'ADMIN_API_KEY',
      'API_CLIENTS',
      'TOKEN_SIGNING_KEYS',
      'REDIS_URL or REDIS_CLUSTER_NODES or REDIS_SENTINELS',
      'BANK_DATA_FILE or BANKING_API_URL',
      'STATEMENTS_DIR or S3_BUCKET',
      'AUDIT_DATABASE_URL',
      'AUDIT_REVIEWERS',
    ]) {
      expect(problems).toContain(`${name}: required in production`);
    }
  });

  it('when secrets are short, the base URL is http://, a _FILE is missing and a secret is given twice, then each is named on its own line and no secret is printed', async () => {
    const env = productionEnv();
    delete env.TWILIO_AUTH_TOKEN;
    const missing = join(secretsDir, 'not-there');
    const problems = await refusedStart({
      ...env,
      PUBLIC_BASE_URL: 'http://ivr.example.com',
      ADMIN_API_KEY: 'short-admin',
      API_CLIENTS: 'genesys:short-genesys,five9:five9-secret-0123456789',
      TWILIO_AUTH_TOKEN_FILE: missing,
      DATA_SECRET_FILE: secretFile('data-secret', env.DATA_SECRET ?? ''),
    });

    expect(problems).toHaveLength(5);
    expect(problems).toContain('PUBLIC_BASE_URL: must be an https:// URL in production');
    expect(problems).toContain('API_CLIENTS: the secret of "genesys" is shorter than 16 characters');
    expect(problems.some((p) => /^ADMIN_API_KEY: .*16 characters/.test(p))).toBe(true);
    expect(problems).toContain(`TWILIO_AUTH_TOKEN_FILE: cannot read ${missing} (ENOENT)`);
    expect(problems).toContain('DATA_SECRET and DATA_SECRET_FILE: both are set; give the secret one way only');
    expect(problems.join('\n')).not.toMatch(/short-admin|short-genesys/);
  });

  it('when every secret is given as a _FILE, then production starts and /readyz answers 200', async () => {
    const env = productionEnv();
    const files: Record<string, string> = {};
    for (const name of ['TWILIO_AUTH_TOKEN', 'ADMIN_API_KEY', 'API_CLIENTS', 'TOKEN_SIGNING_KEYS', 'DATA_SECRET', 'REDIS_URL']) {
      files[`${name}_FILE`] = secretFile(name.toLowerCase(), `${env[name]}\n`);
      delete env[name];
    }
    const port = await freePort();
    const app = startMain({ ...env, ...files, PORT: String(port) });
    try {
      expect(await waitForStatus(`http://127.0.0.1:${port}/readyz`)).toBe(200);
    } finally {
      await app.stop();
    }
    expect(app.output().stderr).toBe('');
  });
});

describe('.env files', () => {
  it('when a .env file is in the working directory, then start-up reads it, and a variable of the real environment wins over it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vl-dotenv-'));
    const port = await freePort();
    writeFileSync(
      join(dir, '.env'),
      [`PORT=1`, `PUBLIC_BASE_URL=http://dotenv.example:${port}`, `FLOWS_DIR=${resolve('flows')}`, `BANK_DATA_FILE=${resolve('data/demo-bank.json')}`, `STATEMENTS_DIR=${resolve('data/statements')}`, 'LOG_LEVEL=warn'].join('\n') + '\n',
    );
    const app = startMain({ PORT: String(port) }, { cwd: dir, args: ['--import', import.meta.resolve('tsx'), resolve('src/main.ts')] });
    try {
      expect(await waitForStatus(`http://127.0.0.1:${port}/healthz`)).toBe(200);
      expect(app.output().stdout).toContain(`running at http://dotenv.example:${port}`);
    } finally {
      await app.stop();
    }
  });
});
