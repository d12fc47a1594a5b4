import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { forkServer, type ChildServer } from './ipc.js';
import { startRedisServer, type RedisServer } from '../../scripts/lib/redis-server.js';
import { startPostgresServer, type PostgresServer } from '../../scripts/lib/postgres-server.js';
import { startTwilioStandIn, type TwilioStandIn } from './twilio-standin.js';
import { createSigner, type Signer } from './webhook.js';

export const PUBLIC_BASE_URL = 'https://ivr.bench.test/ivr';

export interface CpuUsage {
  cpu: NodeJS.CpuUsage;
  wall: number;
}

/** Everything a scenario needs: the app in a child process, its Redis, the Twilio stand-in, a signer. */
export interface Bench {
  quick: boolean;
  origin: string;
  baselineOrigin: string;
  publicBaseUrl: string;
  prefix: string;
  adminKey: string;
  /** The app's one API_CLIENTS credential. */
  apiClient: { id: string; secret: string };
  signer: Signer;
  /** An inspection connection (INFO, MEMORY USAGE, FLUSHALL); never on the app's path. */
  redis: Redis;
  redisServer: RedisServer;
  /** The audit trail's PostgreSQL, as production has it (the outbox drains into it during every scenario). */
  postgres: PostgresServer;
  twilio: TwilioStandIn;
  app: ChildServer<{ port: number }>;
  baseline: ChildServer<{ port: number }>;
  close(): Promise<void>;
}

export async function startBench(opts: { quick: boolean; profile: boolean; logLevel: string }): Promise<Bench> {
  const redisServer = await startRedisServer();
  const postgres = await startPostgresServer();
  const twilio = await startTwilioStandIn();
  const authToken = randomBytes(16).toString('hex');
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const adminKey = randomBytes(24).toString('base64url');
  const apiClient = { id: 'bench-platform', secret: randomBytes(24).toString('base64url') };
  const prefix = 'bench:';
  const appEnv = {
    REDIS_URL: redisServer.url,
    REDIS_KEY_PREFIX: prefix,
    PUBLIC_BASE_URL,
    TWILIO_API_BASE_URL: twilio.baseUrl,
    TWILIO_ACCOUNT_SID: accountSid,
    TWILIO_AUTH_TOKEN: authToken,
    ADMIN_API_KEY: adminKey,
    API_CLIENTS: `${apiClient.id}:${apiClient.secret}`,
    LOG_LEVEL: opts.logLevel,
    AUDIT_DATABASE_URL: postgres.url,
  };
  const execArgv = ['--expose-gc', ...(opts.profile ? ['--cpu-prof', '--cpu-prof-dir=bench/.tmp/profiles'] : [])];
  const app = await forkServer<{ port: number }>('../servers/app-server.ts', { BENCH_APP_ENV: JSON.stringify(appEnv) }, execArgv);
  const baseline = await forkServer<{ port: number }>('../servers/baseline-server.ts', {});
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  return {
    quick: opts.quick,
    origin: `http://127.0.0.1:${app.ready.port}`,
    baselineOrigin: `http://127.0.0.1:${baseline.ready.port}`,
    publicBaseUrl: PUBLIC_BASE_URL,
    prefix,
    adminKey,
    apiClient,
    signer: createSigner({ authToken, accountSid, publicBaseUrl: PUBLIC_BASE_URL }),
    redis,
    redisServer,
    postgres,
    twilio,
    app,
    baseline,
    async close() {
      await app.stop();
      await baseline.stop();
      redis.disconnect();
      await twilio.close();
      await redisServer.stop();
      await postgres.destroy();
    },
  };
}

export interface CpuSnapshot {
  server: CpuUsage;
  generator: CpuUsage;
  redisSeconds: number;
  /** Busy milliseconds of the whole machine (all processes, all cores). */
  machineMs: number;
}

function machineBusyMs(): number {
  let busy = 0;
  for (const c of cpus()) busy += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return busy;
}

/** CPU of the server under test, of this process (the load generator) and of redis-server, at one instant. */
export async function cpuSnapshot(b: Bench, server: 'app' | 'baseline'): Promise<CpuSnapshot> {
  const [usage, info] = await Promise.all([b[server].ask<CpuUsage>('usage'), b.redis.info('cpu')]);
  const num = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return {
    server: usage,
    generator: { cpu: process.cpuUsage(), wall: performance.now() },
    redisSeconds: num('used_cpu_user') + num('used_cpu_sys'),
    machineMs: machineBusyMs(),
  };
}

/** Cores used between two snapshots: the server under test, the load generator, Redis, and anything else running. */
export interface Cores {
  server: number;
  generator: number;
  redis: number;
  /** Other processes on the machine: above ~0.1 the figures are pessimistic (the machine was not quiet). */
  other: number;
}

/**
 * `activeMs`: how long the load actually ran inside the snapshot window. Short phases spend a
 * noticeable share of the window connecting and draining, when nothing is busy; dividing by the
 * active time instead reads what the processes used while the load was on.
 */
export function coresBetween(a: CpuSnapshot, b: CpuSnapshot, activeMs?: number): Cores {
  const ms = activeMs ?? b.generator.wall - a.generator.wall;
  const used = (u0: CpuUsage, u1: CpuUsage) => (u1.cpu.user - u0.cpu.user + (u1.cpu.system - u0.cpu.system)) / 1000;
  const server = used(a.server, b.server) / ms;
  const generator = used(a.generator, b.generator) / ms;
  const redis = ((b.redisSeconds - a.redisSeconds) * 1000) / ms;
  const machine = (b.machineMs - a.machineMs) / ms;
  return { server, generator, redis, other: Math.max(0, machine - server - generator - redis) };
}
