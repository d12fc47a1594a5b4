import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startPostgresServer, type PostgresServer } from '../scripts/lib/postgres-server.js';
import { freePort, startRedisServer, type RedisServer } from '../scripts/lib/redis-server.js';
import { caller, listeningApp, PUBLIC_BASE_URL } from './support/app.js';
import { assembleStage, parseDockerfile } from './support/dockerfile.js';
import { eventually } from './support/eventually.js';
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
  volumes?: string[];
  build?: { target?: string };
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

/** A compose service's environment, interpolated, with the postgres service's address made local. */
function serviceEnv(name: string, vars: Record<string, string | undefined>, postgresPort: number): Record<string, string> {
  return Object.fromEntries(
    Object.entries(compose.services[name]?.environment ?? {})
      .map(([k, v]) => [k, interpolate(String(v), vars).replace('@postgres:5432', `@127.0.0.1:${postgresPort}`)] as const)
      .filter(([, v]) => v !== ''),
  );
}

function run(command: string, args: string[], options: { env: Record<string, string>; cwd?: string }): { status: number | null; out: string } {
  const result = spawnSync(command, args, { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env }, cwd: options.cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

/**
 * docker-compose.yml's topology with local processes, following README → Production: secrets from
 * `npm run keygen` in .env, redis-server with the compose file's own arguments, a PostgreSQL of its
 * own given the roles by postgres-init's script and the table by audit-migrate's command (run in
 * the Dockerfile's tools stage laid out on disk, as the table's owner), the statements bucket on
 * s3rver seeded like minio-init does, the app with the compose file's environment (as the
 * insert/select role).
 */
describe('the compose topology, run with local processes as README → Production says', { timeout: 240_000 }, () => {
  let redis: RedisServer;
  let postgres: PostgresServer;
  let s3: S3rverInstance;
  let s3Endpoint = '';
  const redisPassword = 'local-compose-redis-password-0123';
  // Hex, as README says: they go into connection URLs.
  const db = { POSTGRES_PASSWORD: 'a1'.repeat(16), AUDIT_DB_OWNER_PASSWORD: 'b2'.repeat(16), AUDIT_DB_APP_PASSWORD: 'c3'.repeat(16) };
  const work = mkdtempSync(join(tmpdir(), 'vl-compose-'));
  const image = mkdtempSync(join(tmpdir(), 'vl-compose-tools-'));
  /** The owner's and the app's URLs, as compose gives them to audit-migrate and the app. */
  let ownerUrl = '';
  let appUrl = '';

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

    // PostgreSQL, its superuser `postgres` with a password (the image's), every connection scram.
    postgres = await startPostgresServer({ superuser: 'postgres', password: db.POSTGRES_PASSWORD });
    ownerUrl = serviceEnv('audit-migrate', db, postgres.port).AUDIT_DATABASE_URL ?? '';
    appUrl = interpolate(compose.services.app?.environment?.AUDIT_DATABASE_URL ?? '', db).replace('@postgres:5432', `@127.0.0.1:${postgres.port}`);
  }, 120_000);
  afterAll(async () => {
    await postgres?.destroy();
    rmSync(image, { recursive: true, force: true });
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

  it('when postgres-init runs its script as the superuser and audit-migrate its command as the owner, then the owner owns the trail and the app role has INSERT and SELECT only', async () => {
    // postgres-init: psql with the compose command and environment, the mounted folder being deploy/postgres.
    const init = compose.services['postgres-init'] ?? {};
    const mount = (init.volumes ?? []).find((v) => v.startsWith('./deploy/postgres:'))?.split(':')[1] ?? '/init';
    const [psql = '', ...psqlArgs] = (init.command ?? []).map((a) => a.replace(`${mount}/`, `${resolve('deploy/postgres')}/`));
    expect(psql).toBe('psql');
    const initEnv = { ...serviceEnv('postgres-init', db, postgres.port), PGHOST: '127.0.0.1', PGPORT: String(postgres.port) };
    for (let i = 0; i < 2; i++) {
      // Twice: the one-shot runs on every `docker compose up`, so it must be idempotent.
      const done = run(psql, psqlArgs, { env: initEnv });
      expect(done.status, done.out).toBe(0);
    }

    // audit-migrate: its command after the tools stage's ENTRYPOINT, in that stage laid out on disk.
    const stages = parseDockerfile(readFileSync('Dockerfile', 'utf8'));
    const target = compose.services['audit-migrate']?.build?.target ?? '';
    const tools = stages.find((s) => s.name === target);
    const entrypoint = JSON.parse(tools?.steps.find((s) => s.instruction === 'ENTRYPOINT')?.args ?? '[]') as string[];
    const root = assembleStage(stages, target, image);
    const [npm = '', ...npmArgs] = [...entrypoint, ...(compose.services['audit-migrate']?.command ?? [])];
    const migrated = run(npm, npmArgs, { env: serviceEnv('audit-migrate', db, postgres.port), cwd: root });
    expect(migrated.status, migrated.out).toBe(0);
    expect(JSON.parse(migrated.out.trim().split('\n').at(-1) ?? '{}')).toEqual({ migrated: 'public', granted: 'vaultline_app', privileges: ['SELECT', 'INSERT'] });

    const owner = new pg.Client({ connectionString: ownerUrl });
    await owner.connect();
    try {
      const roles = await owner.query<{ rolname: string; rolsuper: boolean }>(`SELECT rolname, rolsuper FROM pg_roles WHERE rolname IN ('vaultline_owner', 'vaultline_app') ORDER BY rolname`);
      expect(roles.rows).toEqual([{ rolname: 'vaultline_app', rolsuper: false }, { rolname: 'vaultline_owner', rolsuper: false }]);
      const table = await owner.query<{ owner: string }>(`SELECT tableowner AS owner FROM pg_tables WHERE tablename = 'audit_events'`);
      expect(table.rows).toEqual([{ owner: 'vaultline_owner' }]);
      const grants = await owner.query<{ privilege: string }>(`SELECT privilege_type AS privilege FROM information_schema.role_table_grants WHERE grantee = 'vaultline_app' AND table_name = 'audit_events' ORDER BY 1`);
      expect(grants.rows.map((r) => r.privilege)).toEqual(['INSERT', 'SELECT']);
    } finally {
      await owner.end();
    }
    // The network asks for the password: the app role with a wrong one is refused.
    const wrong = new pg.Client({ connectionString: appUrl.replace(db.AUDIT_DB_APP_PASSWORD, 'not-the-password') });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
    await wrong.end().catch(() => undefined);
  });

  it('when the app starts with keygen secrets in .env and the compose environment, then /readyz is 200 with the store, the S3 bucket and the trail; the events of a whole call reach the table, read as the app role, which can change none of them; retain runs as the owner', async () => {
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
      ...db,
      ...secrets,
    };
    // The compose file's environment for the app, with the service names resolved to local ports.
    const env = Object.fromEntries(
      Object.entries(compose.services.app?.environment ?? {})
        .map(([k, v]) => [k, interpolate(String(v), operator).replace(`@redis:6379`, `@127.0.0.1:${redis.port}`).replace('@postgres:5432', `@127.0.0.1:${postgres.port}`)] as const)
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
      expect(ready.checks).toMatchObject({ auditTrail: 'ok' });
      // A whole call: it starts, a code is issued, the caller hangs up.
      const call = caller(listeningApp(origin, { twilio }));
      const menu = await call.dial();
      expect(menu.gather?.numDigits).toBe(1);
      await call.press('1');
      expect((await call.hangUp()).status).toBeLessThan(300);
      const callSid = call.callSid;

      // Its events reach the table, read back as the app's own role (vaultline_app).
      const asApp = new pg.Client({ connectionString: env.AUDIT_DATABASE_URL });
      await asApp.connect();
      try {
        await eventually(async () => {
          const rows = await asApp.query<{ type: string }>(`SELECT type FROM audit_events WHERE call_id = $1 ORDER BY at, seq`, [callSid]);
          const types = rows.rows.map((r) => r.type);
          expect(types[0]).toBe('call_started');
          expect(types).toEqual(expect.arrayContaining(['session_created', 'did_issued', 'call_ended']));
        }, 15_000, 200);
        // The role the app holds may append and read, never change what is there.
        const day = (await asApp.query<{ day: string }>(`SELECT to_char(day, 'YYYYMMDD') AS day FROM audit_events WHERE call_id = $1 LIMIT 1`, [callSid])).rows[0]?.day;
        for (const statement of [
          `UPDATE audit_events SET type = 'confirmed'`,
          `DELETE FROM audit_events`,
          `TRUNCATE audit_events`,
          `DROP TABLE audit_events_${day}`,
          `UPDATE audit_events_${day} SET type = 'confirmed'`,
          `CREATE TABLE audit_shadow (id int)`,
        ]) {
          await expect(asApp.query(statement), statement).rejects.toThrow(/permission denied|must be owner/);
        }
      } finally {
        await asApp.end();
      }
      // The daily retention, as README says, runs as the owner and keeps today.
      const stages = parseDockerfile(readFileSync('Dockerfile', 'utf8'));
      const entrypoint = JSON.parse(stages.find((s) => s.name === 'tools')?.steps.find((s) => s.instruction === 'ENTRYPOINT')?.args ?? '[]') as string[];
      const [npm = '', ...npmArgs] = [...entrypoint, 'audit', '--', 'retain'];
      const retained = run(npm, npmArgs, { env: serviceEnv('audit-migrate', db, postgres.port), cwd: join(image, 'tools') });
      expect(retained.status, retained.out).toBe(0);
      expect(JSON.parse(retained.out.trim().split('\n').at(-1) ?? '{}')).toMatchObject({ dropped: 0, kept: 1 });
    } finally {
      await app.stop();
    }
  });
});
