import { createHmac } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock, systemClock, type Clock } from '../src/shared/clock.js';
import { AppError } from '../src/shared/errors.js';
import { createLocalStatementRouter, createLocalStatementStore, LOCAL_STATEMENTS_PATH } from '../src/statements/local-store.js';
import { createS3StatementStore } from '../src/statements/s3-store.js';
import type { StatementStore } from '../src/statements/store.js';

// s3rver ships no types: the little of it used here, typed by hand.
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverInstance;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;

const KEY = 'cust_001/acc_001/2026-10.pdf';
const PDF = Buffer.from('%PDF-1.7\n% a tiny statement for the contract suite\n%%EOF\n');
const FILENAME = 'Vaultline-statement-2026-10.pdf';
const SECRET = Buffer.alloc(32, 9);

/** One implementation under test: how to build it, seed it, and how long its URLs say they live. */
interface Fixture {
  /** A store whose presigned URLs are signed at `clock`'s time; the server checks them against real time. */
  store(clock: Clock): StatementStore;
  /** A store that cannot be reached. */
  broken(): StatementStore;
  put(key: string, body: Buffer): Promise<void>;
  /** Seconds the URL says it is valid for, from its own query string. */
  lifetimeOf(url: string, signedAtMs: number): number;
  close(): Promise<void>;
}

async function localFixture(): Promise<Fixture> {
  const root = await mkdtemp(path.join(tmpdir(), 'vl-statements-'));
  const app = express();
  app.use(LOCAL_STATEMENTS_PATH, createLocalStatementRouter({ root, secret: SECRET, clock: systemClock }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const publicBaseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    store: (clock) => createLocalStatementStore({ root, secret: SECRET, publicBaseUrl, clock }),
    broken: () => createLocalStatementStore({ root: path.join(root, 'missing'), secret: SECRET, publicBaseUrl, clock: systemClock }),
    async put(key, body) {
      await mkdir(path.dirname(path.join(root, key)), { recursive: true });
      await writeFile(path.join(root, key), body);
    },
    lifetimeOf: (url, signedAtMs) => Number(new URL(url).searchParams.get('exp')) - Math.floor(signedAtMs / 1000),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function s3Fixture(): Promise<Fixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vl-s3rver-'));
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: 'statements', configs: [] }] });
  const { port } = await s3rver.run();
  const endpoint = `http://127.0.0.1:${port}`;
  // s3rver's built-in account; it does not verify SigV4 signatures, so no test here claims to.
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const stores: { close(): void }[] = [];
  const make = (bucket: string, clock: Clock, at = endpoint) => {
    const s = createS3StatementStore({ bucket, endpoint: at, region: 'us-east-1', forcePathStyle: true, clock, credentials });
    stores.push(s);
    return s;
  };
  const seeder = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });
  return {
    store: (clock) => make('statements', clock),
    broken: () => make('statements', systemClock, 'http://127.0.0.1:9'),
    async put(key, body) {
      await seeder.send(new PutObjectCommand({ Bucket: 'statements', Key: key, Body: body }));
    },
    lifetimeOf: (url) => Number(new URL(url).searchParams.get('X-Amz-Expires')),
    async close() {
      seeder.destroy();
      for (const s of stores) s.close();
      s3rver.httpServer?.closeAllConnections();
      await s3rver.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe.each([
  ['local directory', localFixture],
  ['S3 (s3rver)', s3Fixture],
] as const)('the statement store on %s', (_name, start) => {
  let fixture: Fixture;
  let store: StatementStore;
  beforeAll(async () => {
    fixture = await start();
    store = fixture.store(systemClock);
    await fixture.put(KEY, PDF);
  });
  afterAll(async () => {
    await fixture.close();
  });

  it('when an object was put, then it exists, and an unknown key does not', async () => {
    expect(await store.exists(KEY)).toBe(true);
    expect(await store.exists('cust_001/acc_001/1999-01.pdf')).toBe(false);
  });

  it('when a URL is presigned, then it downloads the exact bytes as an uncached PDF attachment with the given name', async () => {
    const res = await fetch(await store.presignedGetUrl(KEY, { filename: FILENAME, expiresInSeconds: 60 }));
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(PDF);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${FILENAME}"`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toBe('application/pdf');
  });

  it('when a URL is presigned, then it says it lives the asked seconds, never more than 60', async () => {
    const signedAt = Date.now();
    const url = await fixture.store(manualClock(signedAt)).presignedGetUrl(KEY, { filename: FILENAME, expiresInSeconds: 45 });
    expect(fixture.lifetimeOf(url, signedAt)).toBe(45);
    for (const expiresInSeconds of [61, 600, 0, 1.5]) {
      await expect(store.presignedGetUrl(KEY, { filename: FILENAME, expiresInSeconds })).rejects.toMatchObject({ code: 'bad_request' });
    }
  });

  it('when a URL was signed longer ago than it lives, then the download is refused with 403', async () => {
    const twoMinutesAgo: Clock = { now: () => Date.now() - 120_000 };
    const res = await fetch(await fixture.store(twoMinutesAgo).presignedGetUrl(KEY, { filename: FILENAME, expiresInSeconds: 60 }));
    expect(res.status).toBe(403);
    expect(Buffer.from(await res.arrayBuffer()).includes(PDF)).toBe(false);
  });

  it('when a key climbs out of the store or a file name could break the header, then nothing is asked of the store', async () => {
    for (const key of ['../secret.pdf', '/etc/passwd', 'a/../../b.pdf', 'a//b.pdf', 'a\0b.pdf', 'a\\b.pdf', '']) {
      await expect(store.exists(key)).rejects.toBeInstanceOf(AppError);
      await expect(store.presignedGetUrl(key, { filename: FILENAME, expiresInSeconds: 30 })).rejects.toMatchObject({ code: 'bad_request' });
    }
    for (const filename of ['a"; x=y.pdf', 'a\r\nSet-Cookie: x.pdf', '../x.pdf', 'é.pdf']) {
      await expect(store.presignedGetUrl(KEY, { filename, expiresInSeconds: 30 })).rejects.toMatchObject({ code: 'bad_request' });
    }
  });

  it('when the store is there, then ping resolves; when it cannot be reached, ping fails as unavailable', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
    await expect(fixture.broken().ping()).rejects.toMatchObject({ code: 'unavailable', message: 'statement store unavailable' });
  });
});

describe('the local store route', () => {
  let root: string;
  let port: number;
  let server: Server;
  const clock = manualClock(Date.UTC(2026, 10, 1, 12, 0, 0));
  const publicBaseUrl = 'https://ivr.bank.test/ivr';
  const store = () => createLocalStatementStore({ root, secret: SECRET, publicBaseUrl, clock });

  /** The documented scheme, recomputed here so a test can sign URLs the store would never sign. */
  const signAs = (key: string, exp: number, fn: string) => {
    const purposeKey = createHmac('sha256', SECRET).update('vaultline/statements/local/v1').digest();
    return createHmac('sha256', purposeKey).update(`${exp}\n${fn}\n${key}`).digest('base64url');
  };
  /** A raw GET: fetch would normalise '..' and '%2e%2e' before sending, hiding what an attacker can send. */
  const rawGet = (rawPath: string) =>
    new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: rawPath, method: 'GET' }, (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });
  const pathOf = (url: string) => url.slice(publicBaseUrl.length);

  beforeAll(async () => {
    const base = await mkdtemp(path.join(tmpdir(), 'vl-route-'));
    root = path.join(base, 'root');
    await mkdir(path.join(root, 'cust_001/acc_001'), { recursive: true });
    await writeFile(path.join(root, KEY), PDF);
    await writeFile(path.join(base, 'secret.pdf'), 'outside the root');
    const app = express();
    app.use(LOCAL_STATEMENTS_PATH, createLocalStatementRouter({ root, secret: SECRET, clock }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(path.dirname(root), { recursive: true, force: true });
  });

  it('when the URL is built, then it sits under PUBLIC_BASE_URL with its path prefix and carries exp, fn and sig', async () => {
    const url = await store().presignedGetUrl(KEY, { filename: FILENAME, expiresInSeconds: 60 });
    const u = new URL(url);
    expect(`${u.origin}${u.pathname}`).toBe(`${publicBaseUrl}/statements/local/${KEY}`);
    const exp = Math.floor(clock.now() / 1000) + 60;
    expect(Object.fromEntries(u.searchParams)).toEqual({ exp: String(exp), fn: FILENAME, sig: signAs(KEY, exp, FILENAME) });
  });

  it('when the clock passes the expiry second, then the same URL turns from 200 into a bare 403', async () => {
    const url = pathOf(await store().presignedGetUrl(KEY, { filename: FILENAME, expiresInSeconds: 60 }));
    clock.advance(60_000);
    expect((await rawGet(url)).status).toBe(200);
    clock.advance(1_000);
    const refused = await rawGet(url);
    expect(refused).toMatchObject({ status: 403, body: 'Forbidden' });
    expect(refused.headers['cache-control']).toBe('no-store');
  });

  it('when any signed part is changed, then the answer is 403', async () => {
    const url = new URL(await store().presignedGetUrl(KEY, { filename: FILENAME, expiresInSeconds: 60 }));
    const tamper = (name: string, value: string | null) => {
      const u = new URL(url);
      if (value === null) u.searchParams.delete(name);
      else u.searchParams.set(name, value);
      return `${pathOf(`${u.origin}${u.pathname}`)}?${u.searchParams.toString()}`;
    };
    const sig = url.searchParams.get('sig') ?? '';
    const flipped = (sig.startsWith('A') ? 'B' : 'A') + sig.slice(1);
    for (const p of [tamper('exp', String(Number(url.searchParams.get('exp')) + 3600)), tamper('fn', 'other.pdf'), tamper('sig', flipped), tamper('sig', null), tamper('sig', sig.slice(0, 20))]) {
      expect((await rawGet(p)).status, p).toBe(403);
    }
    const otherKey = `${LOCAL_STATEMENTS_PATH}/cust_001/acc_001/2026-09.pdf${url.search}`;
    expect((await rawGet(otherKey)).status).toBe(403);
  });

  it('when a path climbs out of the root, even with a valid signature for it, then the answer is 403 and the file stays unread', async () => {
    const exp = Math.floor(clock.now() / 1000) + 60;
    for (const raw of ['../secret.pdf', '..%2fsecret.pdf', '%2e%2e/secret.pdf', '%2e%2e%2fsecret.pdf', '/..%2f..%2fsecret.pdf', 'cust_001%00.pdf', '..%5csecret.pdf']) {
      const key = decodeURIComponent(raw);
      const res = await rawGet(`${LOCAL_STATEMENTS_PATH}/${raw}?exp=${exp}&fn=${FILENAME}&sig=${signAs(key, exp, FILENAME)}`);
      expect(res.status, raw).toBe(403);
      expect(res.body).not.toContain('outside the root');
    }
  });

  it('when a signed URL names a file that is gone, then the answer is 404 without detail', async () => {
    const url = await store().presignedGetUrl('cust_001/acc_001/2020-01.pdf', { filename: FILENAME, expiresInSeconds: 60 });
    expect(await rawGet(pathOf(url))).toMatchObject({ status: 404, body: 'Not found' });
  });
});
