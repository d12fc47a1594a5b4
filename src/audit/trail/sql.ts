import type { PGlite } from '@electric-sql/pglite';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * The little of SQL the trail needs, over `pg` (PostgreSQL) and PGlite (the same SQL in process,
 * for `npm start` without a server and for tests): parameterised queries and one transaction.
 */
export interface Sql {
  query<R extends object>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** Several statements, no parameters (migrations). */
  exec(text: string): Promise<void>;
  /** Runs `fn` in one transaction (BEGIN … COMMIT, ROLLBACK on a throw). */
  transaction<T>(fn: (tx: Pick<Sql, 'query'>) => Promise<T>): Promise<T>;
  /** Where it is, for the one log line an unreachable database gets (host only, never credentials). */
  readonly where: string;
  close(): Promise<void>;
}

/** DESIGN B3: never hold a request or the drainer on a database that does not answer. */
const CONNECT_TIMEOUT_MS = 2000;
const STATEMENT_TIMEOUT_MS = 10_000;

export function postgresSql(url: string, options: { max?: number } = {}): Sql {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 4,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
  });
  // A dropped connection must not crash the process: the next query fails and the outbox waits.
  pool.on('error', () => undefined);
  return {
    where: hostOf(url),
    async query<R extends object>(text: string, params: readonly unknown[] = []) {
      return (await pool.query<R>(text, params as unknown[])).rows;
    },
    async exec(text) {
      await pool.query(text);
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn({ query: async <R extends object>(text: string, params: readonly unknown[] = []) => (await client.query<R>(text, params as unknown[])).rows });
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * The embedded store: PGlite in memory (development and tests only; DESIGN A2). It starts in the
 * background, since compiling its WebAssembly and running its initdb takes a second or more (far
 * more on a busy machine): start-up goes on and events wait in the outbox meanwhile, as they would
 * for a PostgreSQL that is not up yet. `ready` resolves once it answers.
 */
/**
 * A fresh PGlite. Its initdb is most of its start-up, and every fresh cluster is the same, so the
 * first one's data directory is kept (an empty cluster: nothing of ours in it) in the temporary
 * directory and later ones start from it.
 */
async function openPglite(): Promise<PGlite> {
  const { PGlite } = await import('@electric-sql/pglite');
  const cache = join(tmpdir(), `vaultline-pglite-${PGLITE_CACHE_VERSION}.tar.gz`);
  try {
    return await PGlite.create({ loadDataDir: new Blob([await readFile(cache)]) });
  } catch {
    const db = await PGlite.create();
    try {
      const dump = await db.dumpDataDir('gzip');
      const tmp = `${cache}.${process.pid}`;
      await writeFile(tmp, Buffer.from(await dump.arrayBuffer()));
      await rename(tmp, cache);
    } catch {
      // No cache this time: the next start runs initdb again.
    }
    return db;
  }
}

/** The PGlite version in package-lock (a data directory is tied to its build; a stale one fails to load and is replaced). */
const PGLITE_CACHE_VERSION = '0.5.17';

export function pgliteSql(): Sql {
  let db: PGlite | undefined;
  let opening: Promise<PGlite> | undefined;
  // Opened on first use: an app that records nothing (a start-up check, --help) never pays for it.
  const open = () => (opening ??= openPglite().then((d) => (db = d)));
  return {
    where: 'embedded',
    async query<R extends object>(text: string, params: readonly unknown[] = []) {
      return (await (await open()).query<R>(text, params as unknown[])).rows;
    },
    async exec(text) {
      await (await open()).exec(text);
    },
    transaction: async (fn) =>
      (await open()).transaction((tx) => fn({ query: async <R extends object>(text: string, params: readonly unknown[] = []) => (await tx.query<R>(text, params as unknown[])).rows })),
    // Not waiting for one still starting: it lives in this process's memory and goes with it.
    close: async () => {
      await db?.close();
    },
  };
}

/** `host:port/db` of a connection string, without user or password. */
export function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'an unparsable URL';
  }
}
