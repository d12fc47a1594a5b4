import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import request from 'supertest';
import { describe, expect, inject, it } from 'vitest';
import { freePort } from '../scripts/lib/redis-server.js';
import { caller, listeningApp, PUBLIC_BASE_URL, spokenCode } from './support/app.js';
import { makeTestDevice, signConfirmation } from './support/device.js';
import { startMain, waitForStatus } from './support/main-process.js';
import { FIXTURE_FLOWS_DIR } from './support/flows.js';
import { freshPrefix } from './support/prefix.js';
import { startTwilioFake } from './support/twilio-fake.js';
import { heard } from './support/twiml.js';

function keygen(args: string[] = [], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/keygen.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

type Jwk = { kid: string; kty: string; crv: string; d: string; alg: string };

describe('npm run keygen', () => {
  it('when run twice, then each prints every secret as a .env line, long enough, and no value repeats between runs', async () => {
    const [a, b] = await Promise.all([keygen(), keygen()]);
    expect(a.code).toBe(0);
    const first = parseEnv(a.stdout);
    const second = parseEnv(b.stdout);

    expect(Object.keys(first).sort()).toEqual(['ADMIN_API_KEY', 'API_CLIENTS', 'AUDIT_REVIEWERS', 'DATA_SECRET', 'TOKEN_SIGNING_KEYS']);
    const keys = JSON.parse(first.TOKEN_SIGNING_KEYS ?? '') as Jwk[];
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(keys[0]?.kid).toMatch(/^\d{4}-\d{2}-\d{2}-[0-9a-f]{4}$/);
    expect(first.DATA_SECRET?.length).toBeGreaterThanOrEqual(32);
    expect(first.ADMIN_API_KEY?.length).toBeGreaterThanOrEqual(16);
    expect(first.API_CLIENTS).toMatch(/^contact-centre:[A-Za-z0-9_-]{16,}$/);
    expect(first.AUDIT_REVIEWERS).toMatch(/^reviewer:[A-Za-z0-9_-]{16,}$/);
    for (const name of Object.keys(first)) expect(second[name]).not.toBe(first[name]);
  });

  it('when --rotate is given the current keys, then it prints them with a new signing key in front', async () => {
    const current = parseEnv((await keygen()).stdout).TOKEN_SIGNING_KEYS ?? '';
    const [fromArgument, fromEnvironment] = await Promise.all([keygen(['--rotate', current, '--kid', 'next-key']), keygen(['--rotate'], { TOKEN_SIGNING_KEYS: current })]);

    for (const run of [fromArgument, fromEnvironment]) {
      expect(run.code).toBe(0);
      const rotated = JSON.parse(parseEnv(run.stdout).TOKEN_SIGNING_KEYS ?? '') as Jwk[];
      expect(rotated).toHaveLength(2);
      expect(rotated.slice(1)).toEqual(JSON.parse(current));
      expect(rotated[0]?.d).not.toBe(rotated[1]?.d);
    }
    expect((JSON.parse(parseEnv(fromArgument.stdout).TOKEN_SIGNING_KEYS ?? '') as Jwk[])[0]?.kid).toBe('next-key');
  });

  it('when --rotate has no current keys, then it says where to give them, in one line, exit 2', async () => {
    const run = await keygen(['--rotate']);

    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual(['keygen: --rotate needs the current keys: pass them as the argument or set TOKEN_SIGNING_KEYS (or TOKEN_SIGNING_KEYS_FILE).']);
  });

  it('when its output is pasted into .env of a production start (real Redis), then the app starts and a verified call runs on it', { timeout: 60_000 }, async () => {
    const generated = await keygen();
    const dir = mkdtempSync(join(tmpdir(), 'vl-keygen-'));
    writeFileSync(join(dir, '.env'), generated.stdout, { mode: 0o600 });
    const secrets = parseEnv(generated.stdout);
    const twilioFake = await startTwilioFake();
    const port = await freePort();
    const twilio = { accountSid: 'AC' + '4'.repeat(32), authToken: 'keygen-test-twilio-token-0123', apiBaseUrl: twilioFake.baseUrl, smsFrom: '+15005550006' };
    const app = startMain(
      {
        NODE_ENV: 'production',
        PORT: String(port),
        PUBLIC_BASE_URL,
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_SMS_FROM: twilio.smsFrom,
        TWILIO_API_BASE_URL: twilio.apiBaseUrl,
        REDIS_URL: inject('redisUrl'),
        REDIS_KEY_PREFIX: freshPrefix('keygen'),
        AUDIT_DATABASE_URL: inject('auditDatabaseUrl'),
        BANK_DATA_FILE: resolve('data/demo-bank.json'),
        STATEMENTS_DIR: resolve('data/statements'),
        // The fixture copy of the default flow: this test is about the secrets, and a reworded shipped prompt must not break it.
        FLOWS_DIR: FIXTURE_FLOWS_DIR,
        LOG_LEVEL: 'warn',
      },
      { cwd: dir, args: ['--import', import.meta.resolve('tsx'), resolve('src/main.ts')] },
    );
    const origin = `http://127.0.0.1:${port}`;
    try {
      expect(await waitForStatus(`${origin}/readyz`)).toBe(200);

      const { privateKey, publicJwk } = await makeTestDevice('ES256');
      const enrolled = await request(origin).post('/admin/v1/devices').set('Authorization', `Bearer ${secrets.ADMIN_API_KEY}`).send({ customerId: 'cust_001', publicJwk, label: 'keygen test' });
      expect(enrolled.status).toBe(201);

      const call = caller(listeningApp(origin, { twilio }));
      await call.dial();
      const did = spokenCode(await call.press('1')) ?? '';
      expect(did).toMatch(/^\d{6}$/);
      const jws = await signConfirmation({ privateKey, kid: (enrolled.body as { deviceId: string }).deviceId, did, aud: PUBLIC_BASE_URL });
      const confirmed = await request(origin).post('/authenticator/v1/confirmations').set('Content-Type', 'application/jose').send(jws);
      expect(confirmed.body).toEqual({ status: 'confirmed' });

      const update = await twilioFake.waitFor((r) => r.path.endsWith(`/Calls/${call.callSid}.json`));
      const verified = await call.fetch(update.form.Url ?? '');
      expect(heard(verified)).toMatch(/verified/i);
      expect(heard(verified)).toMatch(/balance is \$1,250\.50/);
    } finally {
      await app.stop();
      await twilioFake.close();
    }
  });
});
