import { spawn } from 'node:child_process';

export interface MainProcess {
  exited: Promise<number | null>;
  output(): { stdout: string; stderr: string };
  stop(): Promise<number | null>;
}

/**
 * The app's real entry point as an operator runs it, with only the given settings (no inherited
 * environment): `node --import tsx src/main.ts` (npm start) by default, or a built `dist/main.js`.
 */
export function startMain(env: Record<string, string>, options: { args?: string[]; cwd?: string; node?: string } = {}): MainProcess {
  const child = spawn(options.node ?? process.execPath, options.args ?? ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    exited,
    output: () => ({ stdout, stderr }),
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Polls `url` until it answers `status` (or the bound passes); returns the last status seen (0 = no answer). */
export async function waitForStatus(url: string, status = 200, boundMs = 20_000): Promise<number> {
  const deadline = Date.now() + boundMs;
  let last = 0;
  while (Date.now() < deadline) {
    last = await fetch(url).then((r) => r.status, () => 0);
    if (last === status) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}
