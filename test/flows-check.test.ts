import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatProblem, type FlowProblem } from '../src/flows/load.js';
import { startMain } from './support/main-process.js';

const BROKEN = 'test/fixtures/flows/broken';

/** `npm run flows -- <args>` as a flow author runs it: exit code and both streams. */
function flowsCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/flows.ts', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

/** The mistakes the fixtures mark: `# mistake: code[, code]` on the line the check must name. */
function markedMistakes(): { file: string; line: number; code: string }[] {
  const marked: { file: string; line: number; code: string }[] = [];
  for (const name of readdirSync(BROKEN).filter((f) => f.endsWith('.yaml')).sort()) {
    readFileSync(join(BROKEN, name), 'utf8')
      .split('\n')
      .forEach((text, i) => {
        const m = /# mistake: (.+)$/.exec(text);
        for (const code of m?.[1]?.split(',') ?? []) marked.push({ file: `${BROKEN}/${name}`, line: i + 1, code: code.trim() });
      });
  }
  return marked;
}

const key = (p: { file: string; line?: number; code: string }) => `${p.file}:${p.line ?? '?'} ${p.code}`;

type Run = Awaited<ReturnType<typeof flowsCli>>;

describe('npm run flows -- check', () => {
  // Each run is a process start (seconds on a busy machine): run them once, side by side.
  let shipped: Run;
  let broken: Run;
  let brokenJson: Run;
  let startup: { code: number | null; stderr: string };
  beforeAll(async () => {
    const app = startMain({ FLOWS_DIR: BROKEN, LOG_LEVEL: 'warn' });
    [shipped, broken, brokenJson, startup] = await Promise.all([
      flowsCli(['check']),
      flowsCli(['check', BROKEN]),
      flowsCli(['check', BROKEN, '--json']),
      app.exited.then((code) => ({ code, stderr: app.output().stderr })),
    ]);
  }, 60_000);

  it('when the shipped flows are checked, then it exits 0 without starting the app', () => {
    const run = shipped;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('when the shipped flows are checked, then it lists the low-risk nodes served while the store is away (FAIL_MODE=open-low-risk)', () => {
    const line = shipped.stdout.split('\n').find((l) => l.startsWith('low-risk in flow main'));
    expect(line).toBeDefined();
    const nodes = (line ?? '').replace(/^.*: /, '').split(', ');
    expect(nodes.sort()).toEqual(['agent', 'agent-unverified', 'goodbye', 'main-menu', 'technical-difficulty', 'welcome']);
  });

  it('when each kind of mistake is made once (a misspelled action too), then it exits 1 with exactly one message per mistake, each with file:line, node and fix', () => {
    const run = brokenJson;
    expect(run.code).toBe(1);
    const { ok, problems } = JSON.parse(run.stdout) as { ok: boolean; problems: FlowProblem[] };
    expect(ok).toBe(false);
    const marked = markedMistakes();
    expect(new Set(marked.map((m) => m.code))).toEqual(
      new Set(['parse', 'schema', 'unknown_kind', 'unknown_action', 'menu_key', 'dangling_target', 'missing_prompt', 'prompt_placeholders', 'unguarded_action', 'gate', 'fallback_not_transfer', 'say_cycle']),
    );
    // No duplicates, and nothing for extras.yaml, which only redirects into the broken main.yaml.
    expect(problems.map(key).sort()).toEqual(marked.map(key).sort());
    for (const p of problems) {
      expect(p.node, formatProblem(p)).toEqual(expect.any(String));
      expect(p.fix.length, formatProblem(p)).toBeGreaterThan(0);
    }
    const text = broken;
    expect(text.code).toBe(1);
    expect(text.stderr.trim().split('\n').slice(0, -1)).toEqual(problems.map(formatProblem));
  });

  it('when a menu key is not a keypad key, then the message lists the valid keys', () => {
    expect(broken.stderr).toContain('main.yaml:11: node "menu": options: "10" is not a keypad key (the keys are 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, "*" and "#")');
  });

  it('when several verify nodes lead to an action, then the fix names the gate: field of that action and the choices', () => {
    expect(broken.stderr).toMatch(/semantic\.yaml:21: node "balance": several verify nodes lead here \(gate-a, gate-b\).*\(fix: add "gate: gate-a" \(or gate-b\) to node "balance"\)/);
  });

  it('when the app starts on the same broken flows, then it stops with the same messages', () => {
    const problems = (JSON.parse(brokenJson.stdout) as { problems: FlowProblem[] }).problems;
    expect(startup.code).toBe(1);
    const lines = startup.stderr.split('\n').map((l) => l.trim());
    for (const p of problems) expect(lines).toContain(formatProblem(p));
  });
});
