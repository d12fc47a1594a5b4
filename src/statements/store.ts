import { z } from 'zod';
import { AppError } from '../shared/errors.js';

/**
 * Where statement PDFs live: a local directory (development) or an S3 bucket (production). Keys are
 * the `file` values of the bank (A6), e.g. `cust_001/acc_001/2026-10.pdf`.
 */
export interface StatementStore {
  /** `signal`: the caller's turn budget; an aborted check is a failure (AppError 'unavailable'), never "missing". */
  exists(key: string, options?: { signal?: AbortSignal }): Promise<boolean>;
  /**
   * A URL that downloads the object for a short time (A8: ≤ 60 s) as an attachment that no cache
   * keeps. Does not check that the object exists: call `exists` first.
   */
  presignedGetUrl(key: string, options: PresignOptions): Promise<string>;
  /** Resolves when the store answers (for /readyz); rejects otherwise. */
  ping(): Promise<void>;
}

export interface PresignOptions {
  /** The download's file name, e.g. `Vaultline-statement-2026-10.pdf`. */
  filename: string;
  /** 1–60. */
  expiresInSeconds: number;
}

/** A8: a presigned statement URL lives at most this long. */
export const MAX_PRESIGN_SECONDS = 60;

// Relative, '/'-separated, plain characters: no '..', no absolute path, no NUL or backslash, so a
// key can never leave the local root and reads the same on disk and in S3.
const SEGMENT = '[A-Za-z0-9_-][A-Za-z0-9._-]*';
const KEY = new RegExp(`^${SEGMENT}(/${SEGMENT})*$`);

export function isStatementKey(key: string): boolean {
  return key.length <= 512 && KEY.test(key) && !key.split('/').some((s) => s === '.' || s === '..');
}

export const statementKeySchema = z.string().refine(isStatementKey, 'must be a relative key like cust_001/acc_001/2026-10.pdf');

// Goes into a Content-Disposition header: no quotes, separators or non-ASCII to escape.
const FILENAME = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$/;

export function isDownloadFilename(name: string): boolean {
  return FILENAME.test(name);
}

/** Checks the arguments both stores share, so both refuse the same things. */
export function checkPresign(key: string, options: PresignOptions): void {
  if (!isStatementKey(key)) throw new AppError('bad_request', 'invalid statement key');
  if (!isDownloadFilename(options.filename)) throw new AppError('bad_request', 'invalid statement file name');
  const ttl = options.expiresInSeconds;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_PRESIGN_SECONDS) {
    throw new AppError('bad_request', `statement link lifetime must be 1 to ${MAX_PRESIGN_SECONDS} seconds`);
  }
}

export function attachmentDisposition(filename: string): string {
  return `attachment; filename="${filename}"`;
}

export function storeUnavailable(cause: unknown): AppError {
  return new AppError('unavailable', 'statement store unavailable', { cause });
}
