import { createHmac, timingSafeEqual } from 'node:crypto';
import { constants as fsConstants, createReadStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Router, type Response } from 'express';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import { attachmentDisposition, checkPresign, isDownloadFilename, isStatementKey, storeUnavailable, type StatementStore } from './store.js';

/**
 * The development statement store: files under a local directory, downloaded through our own
 * `/statements/local/<key>?exp=…&fn=…&sig=…` route. The URL works like an S3 presigned GET: an
 * HMAC-SHA256 over key, expiry and file name, checked in constant time, refused once expired.
 */
export interface LocalStoreOptions {
  root: string;
  /** App secret (e.g. config.dataSecret); a purpose-bound key is derived from it. */
  secret: Buffer;
  publicBaseUrl: string;
  clock: Clock;
}

/** Where the router must be mounted; the store builds its URLs under it. */
export const LOCAL_STATEMENTS_PATH = '/statements/local';

export function createLocalStatementStore(options: LocalStoreOptions): StatementStore {
  const root = path.resolve(options.root);
  const key = signingKey(options.secret);
  return {
    async exists(objectKey) {
      if (!isStatementKey(objectKey)) throw new AppError('bad_request', 'invalid statement key');
      try {
        return (await stat(path.join(root, objectKey))).isFile();
      } catch (err) {
        if (isMissing(err)) return false;
        throw storeUnavailable(err);
      }
    },
    async presignedGetUrl(objectKey, presign) {
      checkPresign(objectKey, presign);
      const exp = Math.floor(options.clock.now() / 1000) + presign.expiresInSeconds;
      const sig = sign(key, objectKey, exp, presign.filename);
      const encodedKey = objectKey.split('/').map(encodeURIComponent).join('/');
      const query = new URLSearchParams({ exp: String(exp), fn: presign.filename, sig });
      return `${options.publicBaseUrl}${LOCAL_STATEMENTS_PATH}/${encodedKey}?${query.toString()}`;
    },
    async ping() {
      try {
        await access(root, fsConstants.R_OK);
        if (!(await stat(root)).isDirectory()) throw new Error('statements root is not a directory');
      } catch (err) {
        throw storeUnavailable(err);
      }
    },
  };
}

/**
 * Serves the URLs the local store signs. Mount at LOCAL_STATEMENTS_PATH. Anything wrong with the
 * URL (bad or missing signature, expired, traversal) is one bare 403, so a prober learns nothing.
 */
export function createLocalStatementRouter(options: { root: string; secret: Buffer; clock: Clock }): Router {
  const root = path.resolve(options.root);
  const key = signingKey(options.secret);
  const router = Router();

  // A regex route: `req.path` stays raw so '%2F' cannot turn into a separator before the checks.
  router.get(/^\/.+/, async (req, res) => {
    const objectKey = decodeKey(req.path.slice(1));
    const exp = typeof req.query.exp === 'string' && /^\d{1,12}$/.test(req.query.exp) ? Number(req.query.exp) : undefined;
    const filename = typeof req.query.fn === 'string' ? req.query.fn : undefined;
    const sig = typeof req.query.sig === 'string' ? req.query.sig : undefined;
    if (objectKey === undefined || exp === undefined || filename === undefined || sig === undefined) return forbid(res);
    if (!verify(key, objectKey, exp, filename, sig)) return forbid(res);
    if (Math.floor(options.clock.now() / 1000) > exp) return forbid(res);
    // Signed names passed this check when signed; checked again because it lands in a header.
    if (!isDownloadFilename(filename)) return forbid(res);

    const file = path.join(root, objectKey);
    // Defence in depth: the key was already checked, the resolved path must still be under root.
    if (!file.startsWith(root + path.sep)) return forbid(res);
    let size: number;
    try {
      const st = await stat(file);
      if (!st.isFile()) return notFound(res);
      size = st.size;
    } catch (err) {
      if (isMissing(err)) return notFound(res);
      throw storeUnavailable(err);
    }
    res.status(200).set({
      'Content-Type': 'application/pdf',
      'Content-Length': String(size),
      'Content-Disposition': attachmentDisposition(filename),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    if (req.method === 'HEAD') return void res.end();
    await pipeline(createReadStream(file), res);
  });
  router.use((_req, res) => forbid(res));
  return router;
}

function signingKey(secret: Buffer): Buffer {
  // Purpose-bound, so a MAC made here can never be replayed as any other MAC of the app.
  return createHmac('sha256', secret).update('vaultline/statements/local/v1').digest();
}

function sign(key: Buffer, objectKey: string, exp: number, filename: string): string {
  // Fields joined by '\n': neither exp (digits), file name (checked) nor key (checked) can hold one.
  return createHmac('sha256', key).update(`${exp}\n${filename}\n${objectKey}`).digest('base64url');
}

function verify(key: Buffer, objectKey: string, exp: number, filename: string, sig: string): boolean {
  const expected = Buffer.from(sign(key, objectKey, exp, filename), 'base64url');
  const given = Buffer.from(sig, 'base64url');
  // Lengths are public (always 32 bytes); only the comparison of contents must be constant-time.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Raw path → key, or undefined for anything that is not a plain relative key once decoded. */
function decodeKey(raw: string): string | undefined {
  const segments: string[] = [];
  for (const part of raw.split('/')) {
    let s: string;
    try {
      s = decodeURIComponent(part);
    } catch {
      return undefined;
    }
    if (s.includes('/') || s.includes('\\') || s.includes('\0')) return undefined;
    segments.push(s);
  }
  const key = segments.join('/');
  return isStatementKey(key) ? key : undefined;
}

function forbid(res: Response): void {
  res.status(403).set('Cache-Control', 'no-store').type('text/plain').send('Forbidden');
}

function notFound(res: Response): void {
  res.status(404).set('Cache-Control', 'no-store').type('text/plain').send('Not found');
}

function isMissing(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
