import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './redis-server.js';

/**
 * A throw-away PostgreSQL (initdb + postgres) on a free loopback port, in a temporary directory, for
 * the tests and `npm run bench`. Never a server we did not start. PostgreSQL refuses to run as root,
 * so as root the binaries run as the `postgres` user (runuser), in a directory that user owns.
 */
export interface PostgresServer {
  /** Superuser (the owner of everything it creates) connection string, its password included. */
  url: string;
  port: number;
  /** Stops the server, keeping its data (an outage); `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
}

const OWNER = 'vaultline_owner';

function findBinary(name: string): string | undefined {
  const onPath = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  for (const dir of ['/usr/local/bin', '/usr/local/pgsql/bin']) if (existsSync(join(dir, name))) return join(dir, name);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    for (const v of readdirSync(debian).sort().reverse()) if (existsSync(join(debian, v, 'bin', name))) return join(debian, v, 'bin', name);
  }
  return undefined;
}

export function postgresBinaries(): { initdb: string; postgres: string } | undefined {
  const initdb = findBinary('initdb');
  const postgres = findBinary('postgres');
  return initdb && postgres ? { initdb, postgres } : undefined;
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
/** Runs a PostgreSQL binary as ourselves, or as `postgres` when we are root. */
const command = (bin: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args]);

function postmasterPid(data: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `superuser` names the cluster's superuser (default vaultline_owner); with `password` it has one
 * and every connection must give its password (scram-sha-256), as on a real server.
 */
export async function startPostgresServer(options: { superuser?: string; password?: string } = {}): Promise<PostgresServer> {
  const superuser = options.superuser ?? OWNER;
  const bins = postgresBinaries();
  if (!bins) {
    throw new Error(
      'PostgreSQL server binaries (initdb, postgres) are needed on PATH, in /usr/local/bin or /usr/lib/postgresql/*/bin ' +
        '(Debian: apt-get install postgresql); the tests can use AUDIT_DATABASE_URL=postgres://owner@host:port/db instead.',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'vaultline-pg-'));
  let chown = (_path: string) => undefined as void;
  if (asRoot) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gids = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (ids.status !== 0) throw new Error('running as root, PostgreSQL needs a `postgres` user to run as (it refuses root)');
    chown = (path) => chownSync(path, Number(ids.stdout.trim()), Number(gids.stdout.trim()));
    chown(dir);
  }
  const data = join(dir, 'data');
  const auth = ['--auth=trust'];
  if (options.password !== undefined) {
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 });
    chown(pwfile);
    auth.splice(0, 1, '--auth=scram-sha-256', `--pwfile=${pwfile}`);
  }
  const [initCmd, initArgs] = command(bins.initdb, ['-D', data, '-U', superuser, ...auth, '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);

  const port = await freePort();
  const url = `postgres://${encodeURIComponent(superuser)}${options.password === undefined ? '' : `:${encodeURIComponent(options.password)}`}@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;

  const start = async () => {
    const [cmd, args] = command(bins.postgres, [
      '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
    ]);
    const proc = spawn(cmd, args, { stdio: 'ignore' });
    child = proc;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const probe = new pg.Client({ connectionString: url });
      try {
        await probe.connect();
        await probe.query('SELECT 1');
        await probe.end();
        return;
      } catch {
        await probe.end().catch(() => undefined);
        if (proc.exitCode !== null || Date.now() > deadline) {
          proc.kill('SIGKILL');
          throw new Error(`postgres did not start on port ${port}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      // SIGINT to the postmaster itself (runuser does not pass signals on): PostgreSQL's "fast"
      // shutdown, which cuts connections at once, as an outage would.
      const pid = postmasterPid(data);
      if (pid) process.kill(pid, 'SIGINT');
      else proc.kill('SIGKILL');
    });

  await start();
  return {
    url,
    port,
    start,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
