import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, startTestApp, type TestApp } from './support/app.js';
import { FIXTURE_FLOWS_DIR } from './support/flows.js';

/** Everything a new call hears first (the welcome, then the menu inside the gather). */
async function firstWords(t: TestApp): Promise<string> {
  const twiml = await caller(t).dial();
  return [...twiml.says.map((s) => s.text), ...(twiml.gather?.says ?? [])].join(' ');
}

describe('flows reload in development', () => {
  let dir = '';
  let file = '';
  let t: TestApp;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vl-reload-'));
    cpSync(FIXTURE_FLOWS_DIR, dir, { recursive: true });
    file = path.join(dir, 'main.yaml');
    t = await startTestApp({ env: { NODE_ENV: 'development', FLOWS_DIR: dir } });
  }, 30_000);
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when a flow file is edited, then the next call speaks the new words; when an edit breaks it, then the last good flows keep running and the problems are logged', async () => {
    expect(await firstWords(t)).toMatch(/Thank you for calling Vaultline Bank/);

    writeFileSync(file, readFileSync(file, 'utf8').replace('welcome: "Thank you for calling Vaultline Bank.', 'welcome: "Welcome to Vaultline, reloaded.'));
    await expect.poll(() => firstWords(t), { timeout: 10_000, interval: 100 }).toMatch(/Welcome to Vaultline, reloaded\./);

    writeFileSync(file, readFileSync(file, 'utf8').replace('    action: balance\n', '    action: balanse\n'));
    const refused = () => t.logs.find((l) => String(l.msg).startsWith('flows not reloaded'));
    await expect.poll(refused, { timeout: 10_000, interval: 100 }).toBeDefined();
    expect(refused()?.problems).toEqual([expect.stringMatching(/main\.yaml:\d+: node "balance": action: unknown action "balanse"/)]);
    expect(await firstWords(t)).toMatch(/Welcome to Vaultline, reloaded\./);
  }, 30_000);
});
