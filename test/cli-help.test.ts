import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const SCRIPTS = readdirSync('scripts').filter((f) => f.endsWith('.ts'));

function run(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `scripts/${script}`, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the command-line tools', () => {
  it('has scripts to check', () => {
    expect(SCRIPTS).toEqual(expect.arrayContaining(['authenticator.ts', 'call.ts', 'keygen.ts', 'make-statements.ts']));
  });

  it.each(SCRIPTS)('when scripts/%s is asked for --help, then it prints its usage and exits 0; an unknown option is one line and a non-zero exit', async (script) => {
    const [help, wrong] = await Promise.all([run(script, ['--help']), run(script, ['--no-such-option'])]);

    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: /);
    expect(help.stderr).toBe('');
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toMatch(/no-such-option/);
  });
});
