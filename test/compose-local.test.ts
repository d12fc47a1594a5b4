import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort, startRedisServer, type RedisServer } from '../scripts/lib/redis-server.js';
import { caller, listeningApp, PUBLIC_BASE_URL } from './support/app.js';
import { freshAuditSchema } from './support/audit-db.js';
import { startMain, waitForStatus } from './support/main-process.js';

// s3rver ships no types: the little of it used here, typed by hand.
interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
  httpServer?: { closeAllConnections(): void };
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

interface Service {
  command?: string[];
  environment?: Record<string, string>;
}
const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, Service> };

/** Compose's interpolation of one value: `${X}`, `${X:-default}`, `${X:?message}` (stops, naming X). */
function interpolate(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op?: string, arg = '') => {
    const v = vars[name];
    if (v !== undefined && v !== '') return v;
    if (op === '?') throw new Error(`compose would stop: ${name}: ${arg}`);
    return op === '-' ? arg : '';
  });
}

function keygen(): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/keygen.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => (code === 0 ? done(out) : fail(new Error(`keygen exited ${code}`))));
  });
}

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));

/**
 * docker-compose.yml's topology with local processes, following README → Production: secrets from
 * `npm run keygen` in .env, redis-server with the compose file's own arguments, the statements
 * bucket on s3rver seeded like minio-init does, the app with the compose file's environment.
 * (PostgreSQL joins once the audit trail's support is on main.)
 */
describe('the compose topology, run with local processes as README → Production says', { timeout: 60_000 }, () => {
  let redis: RedisServer;
  let s3: S3rverInstance;
  let s3Endpoint = '';
  const redisPassword = 'local-compose-redis-password-0123';
  const work = mkdtempSync(join(tmpdir(), 'vl-compose-'));

  beforeAll(async () => {
    // Redis exactly as compose runs it, plus a private directory for its append-only file.
    const vars = { REDIS_PASSWORD: redisPassword };
    const args = (compose.services.redis?.command ?? []).map((a) => interpolate(a, vars));
    expect(args[0]).toBe('redis-server');
    redis = await startRedisServer([...args.slice(1), '--dir', mkdtempSync(join(tmpdir(), 'vl-compose-redis-'))], undefined, {}, redisPassword);

    const dir = mkdtempSync(join(tmpdir(), 'vl-compose-s3-'));
    s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: 'statements', configs: [] }] });
    s3Endpoint = `http://127.0.0.1:${(await s3.run()).port}`;
    // minio-init: `mc mirror data/statements` into the bucket.
    const seeder = new S3Client({ endpoint: s3Endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksumCalculation: 'WHEN_REQUIRED' });
    for (const file of files('data/statements')) {
      await seeder.send(new PutObjectCommand({ Bucket: 'statements', Key: relative('data/statements', file), Body: readFileSync(file) }));
    }
    seeder.destroy();
  }, 60_000);
  afterAll(async () => {
    await redis?.stop();
    s3?.httpServer?.closeAllConnections();
    await s3?.close();
  });

  it('when Redis runs with the compose arguments, then it keeps an AOF fsynced every second, never evicts and refuses clients without the password', async () => {
    const { Redis } = await import('ioredis');
    const anonymous = new Redis(redis.url.replace(/:[^@/]*@/, ''), { lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    anonymous.on('error', () => undefined);
    await expect(anonymous.connect().then(() => anonymous.ping())).rejects.toThrow(/NOAUTH/);
    anonymous.disconnect();
    const client = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    try {
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await client.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    } finally {
      client.disconnect();
    }
  });

  it('when the app starts with keygen secrets in .env and the compose environment, then /readyz is 200 with the store and the S3 bucket, and a signed call is answered', async () => {
    // Step 1: secrets into .env. Step 2: the rest, as an operator's .env (or shell) would give it.
    writeFileSync(join(work, '.env'), await keygen(), { mode: 0o600 });
    const secrets = parseEnv(readFileSync(join(work, '.env'), 'utf8'));
    const twilio = { accountSid: 'AC' + '6'.repeat(32), authToken: 'compose-local-twilio-token-0123', smsFrom: '+15005550006', apiBaseUrl: undefined };
    const operator: Record<string, string> = {
      PUBLIC_BASE_URL,
      REDIS_PASSWORD: redisPassword,
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_SMS_FROM: twilio.smsFrom,
      // s3rver knows one account (it stands for the app user minio-init makes).
      S3_APP_ACCESS_KEY: 'S3RVER',
      S3_APP_SECRET_KEY: 'S3RVER',
      S3_ENDPOINT: s3Endpoint,
      // The image's working directory holds flows/ and data/; here they are the checkout's.
      FLOWS_DIR: resolve('flows'),
      BANK_DATA_FILE: resolve('data/demo-bank.json'),
      // The audit trail's PostgreSQL: a fresh schema on the run's throw-away server.
      AUDIT_DATABASE_URL: (await freshAuditSchema()).url,
      ...secrets,
    };
    // The compose file's environment for the app, with the service names resolved to local ports.
    const env = Object.fromEntries(
      Object.entries(compose.services.app?.environment ?? {})
        .map(([k, v]) => [k, interpolate(String(v), operator).replace(`@redis:6379`, `@127.0.0.1:${redis.port}`)] as const)
        .filter(([, v]) => v !== ''),
    );
    // The keygen secrets reach the app from .env, as `node dist/main.js` reads it: not through the environment.
    for (const name of Object.keys(secrets)) delete env[name];
    const port = await freePort();
    const app = startMain({ ...env, PORT: String(port), LOG_LEVEL: 'warn' }, { cwd: work, args: ['--import', import.meta.resolve('tsx'), resolve('src/main.ts')] });
    const origin = `http://127.0.0.1:${port}`;
    try {
      const status = await waitForStatus(`${origin}/readyz`);
      expect(status, `${await (await fetch(`${origin}/readyz`)).text()} ${app.output().stderr}`).toBe(200);
      const ready = (await (await fetch(`${origin}/readyz`)).json()) as { checks: Record<string, string> };
      expect(ready.checks).toMatchObject({ statements: 'ok' });
      const menu = await caller(listeningApp(origin, { twilio })).dial();
      expect(menu.gather?.numDigits).toBe(1);
    } finally {
      await app.stop();
    }
  });
});
