import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../scripts/lib/redis-server.js';
import { FIXTURE_FLOWS_DIR } from './support/flows.js';

/** A child process with its output gathered and a way to wait for a line of it. */
function start(args: string[], env: Record<string, string>) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', ...args], {
    // Only what `npm start` needs: no REDIS_URL, so the app runs on its embedded store.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', FLOWS_DIR: FIXTURE_FLOWS_DIR, ...env },
  });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    watchers.forEach((w) => w());
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    /** Resolves with the first match in stdout; rejects if the process exits first. */
    waitFor(pattern: RegExp): Promise<RegExpExecArray> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(stdout);
          if (m) {
            watchers.delete(check);
            resolve(m);
          }
        };
        watchers.add(check);
        check();
        void exited.then(() => {
          if (watchers.has(check)) reject(new Error(`exited before printing ${pattern}:\n${stdout}\n${stderr}`));
        });
      });
    },
  };
}

async function finish(p: ReturnType<typeof start>) {
  const code = await p.exited;
  return { code, ...p.output() };
}

describe('npm run call and npm run authenticator against npm start', { timeout: 60_000 }, () => {
  let app: ReturnType<typeof start>;
  let env: Record<string, string>;
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    url = `http://localhost:${port}`;
    const home = mkdtempSync(join(tmpdir(), 'vl-auth-'));
    env = { PORT: String(port), VAULTLINE_AUTHENTICATOR_FILE: join(home, 'authenticator.json'), EMBEDDED_DEVICES_FILE: join(home, 'embedded-devices.json') };
    app = start(['src/main.ts'], { ...env, LOG_LEVEL: 'warn' });
    await app.waitFor(/Vaultline IVR is running at/);
  });
  afterAll(async () => {
    app.child.kill('SIGTERM');
    await app.exited;
  });

  it('when the terminal authenticator is enrolled and confirms the code the scripted call heard, then the call exits 0 having heard "you are verified"', async () => {
    const enrolled = await finish(start(['scripts/authenticator.ts', 'enroll', 'cust_001'], env));
    expect(enrolled.code).toBe(0);
    expect(enrolled.stdout).toMatch(/^Enrolled: device dev_\S+ for cust_001/);
    // The device's private key is readable by its owner only.
    expect(statSync(env.VAULTLINE_AUTHENTICATOR_FILE ?? '').mode & 0o777).toBe(0o600);

    const call = start(['scripts/call.ts', '--url', url, '--keys', '1', '--expect', 'code is', '--expect', 'you are verified'], env);
    const [, spoken] = await call.waitFor(/IVR +› Your code is ([\d, ]+)\./);
    const did = (spoken ?? '').replace(/\D/g, '');
    expect(did).toMatch(/^\d{6}$/);

    const wrong = await finish(start(['scripts/authenticator.ts', 'confirm', did === '000000' ? '111111' : '000000'], env));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim()).toMatch(/^That code was not recognized\./);

    const confirmed = await finish(start(['scripts/authenticator.ts', 'confirm', did], env));
    expect(confirmed.stdout.trim()).toBe('Confirmed: the call is being redirected.');
    expect(confirmed.code).toBe(0);

    const done = await finish(call);
    expect(done.stdout).toMatch(/the app redirected the live call/);
    expect(done.stdout).toMatch(/IVR +› Thank you, you are verified\./);
    expect(done.stdout).toMatch(/✓ heard every expected prompt; hung up/);
    expect(done.code).toBe(0);
  });

  it('when the CLIs are pointed at the IVR by --url alone (no PORT), then enroll and confirm sign for that URL and the call is verified', async () => {
    const onlyUrl = { VAULTLINE_AUTHENTICATOR_FILE: join(mkdtempSync(join(tmpdir(), 'vl-auth-url-')), 'authenticator.json') };
    expect((await finish(start(['scripts/authenticator.ts', 'enroll', 'cust_001', '--url', url], onlyUrl))).code).toBe(0);
    const call = start(['scripts/call.ts', '--url', url, '--keys', '1', '--expect', 'you are verified'], onlyUrl);
    const [, spoken] = await call.waitFor(/IVR +› Your code is ([\d, ]+)\./);

    const confirmed = await finish(start(['scripts/authenticator.ts', 'confirm', (spoken ?? '').replace(/\D/g, ''), '--url', url], onlyUrl));
    expect(confirmed.stderr).toBe('');
    expect(confirmed.code).toBe(0);
    expect((await finish(call)).code).toBe(0);
  });

  it('when the audience is not the IVR\'s, then the refusal is one line saying so, with no stack trace', async () => {
    expect((await finish(start(['scripts/authenticator.ts', 'enroll', 'cust_001'], env))).code).toBe(0);
    const refused = await finish(start(['scripts/authenticator.ts', 'confirm', '123456', '--url', url, '--aud', 'https://elsewhere.example'], env));

    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toEqual([
      'The IVR refused this device or its signature: an unknown or revoked device, or its PUBLIC_BASE_URL is not https://elsewhere.example (set it with --aud).',
    ]);
  });

  it('when a verified caller asks for the balance and then the statement, then the shipped demo bank answers and the SMS link downloads the real PDF once', async () => {
    expect((await finish(start(['scripts/authenticator.ts', 'enroll', 'cust_001'], env))).code).toBe(0);
    const call = start(
      ['scripts/call.ts', '--url', url, '--keys', '1,until:verified,2,1', '--expect', 'your available balance is $1,250.50', '--expect', "We've sent a link to your mobile ending in 0 1 0 1"],
      env,
    );
    const [, spoken] = await call.waitFor(/IVR +› Your code is ([\d, ]+)\./);
    const confirmed = await finish(start(['scripts/authenticator.ts', 'confirm', (spoken ?? '').replace(/\D/g, '')], env));
    expect(confirmed.code).toBe(0);
    const done = await finish(call);
    expect(done.stdout).toMatch(/IVR +› For account ending in 9 8 7 6, your available balance is \$1,250\.50\./);
    expect(done.code).toBe(0);

    // The simulator's inbox got the text for the mobile on file; its link works once.
    const [, link] = /SMS +› to …0101: Vaultline Bank: your October 2026 statement: (\S+\/s\/[A-Za-z0-9_-]+) /.exec(done.stdout) ?? [];
    expect(link?.startsWith(`${url}/s/`)).toBe(true);
    const page = await fetch(link ?? '');
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<form method="post">/);
    const spend = await fetch(link ?? '', { method: 'POST', redirect: 'manual' });
    expect(spend.status).toBe(303);
    const pdf = await fetch(new URL(spend.headers.get('location') ?? '', url));
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.compare(Buffer.from(await pdf.arrayBuffer()), readFileSync('data/statements/cust_001/acc_001/2026-10.pdf'))).toBe(0);
    expect((await fetch(link ?? '', { method: 'POST', redirect: 'manual' })).status).toBe(410);
  });

  it('when an expected prompt never comes because the call ends first, then the scripted call exits non-zero and says which', async () => {
    const call = await finish(start(['scripts/call.ts', '--url', url, '--keys', '0', '--expect', 'your balance is'], env));
    expect(call.stdout).toMatch(/transferred/i);
    expect(call.stderr).toMatch(/never heard "your balance is" \(the call ended first\)/);
    expect(call.code).toBe(1);
  });

  it('when no IVR answers at the URL, then the call exits 2 saying how to start one', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const call = await finish(start(['scripts/call.ts', '--url', nobody, '--keys', '1'], env));
    expect(call.stderr).toMatch(/Cannot reach the IVR at .*npm start/);
    expect(call.code).toBe(2);
  });
});
