import { GetObjectCommand, HeadBucketCommand, HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import { attachmentDisposition, checkPresign, isStatementKey, storeUnavailable, type StatementStore } from './store.js';

/**
 * The production statement store: S3 or any S3-compatible server (MinIO…), through AWS SDK v3.
 * Credentials come from the standard AWS chain unless given (tests give them).
 */
export interface S3StoreOptions {
  bucket: string;
  endpoint?: string;
  region?: string;
  forcePathStyle: boolean;
  /** Signing time of presigned URLs: injected so expiry is testable without waiting. */
  clock: Clock;
  credentials?: S3ClientConfig['credentials'];
}

export interface S3StatementStore extends StatementStore {
  /** Closes the SDK's sockets (shutdown, tests). */
  close(): void;
}

export function createS3StatementStore(options: S3StoreOptions): S3StatementStore {
  const client = new S3Client({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    // The SDK needs a region to sign even for MinIO; us-east-1 is what S3-compatible servers expect.
    region: options.region ?? 'us-east-1',
    forcePathStyle: options.forcePathStyle,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // B3: a storage failure must be told to the caller in seconds, not hang the webhook.
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
    maxAttempts: 2,
    // Only checksum when an operation requires it: many S3-compatible servers reject the
    // SDK's default CRC trailers, and this store only reads.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = options.bucket;

  return {
    async exists(key, { signal } = {}) {
      if (!isStatementKey(key)) throw new AppError('bad_request', 'invalid statement key');
      try {
        await client.send(new HeadObjectCommand({ Bucket, Key: key }), signal ? { abortSignal: signal } : {});
        return true;
      } catch (err) {
        if (httpStatus(err) === 404) return false;
        throw storeUnavailable(err);
      }
    },
    async presignedGetUrl(key, presign) {
      checkPresign(key, presign);
      const command = new GetObjectCommand({
        Bucket,
        Key: key,
        // Signed into the URL, so S3 answers with these headers and nobody can change them.
        ResponseContentDisposition: attachmentDisposition(presign.filename),
        ResponseCacheControl: 'no-store',
        ResponseContentType: 'application/pdf',
      });
      try {
        return await getSignedUrl(client, command, { expiresIn: presign.expiresInSeconds, signingDate: new Date(options.clock.now()) });
      } catch (err) {
        // Signing is local; it fails only when no credentials can be found.
        throw storeUnavailable(err);
      }
    },
    async ping() {
      try {
        await client.send(new HeadBucketCommand({ Bucket }));
      } catch (err) {
        throw storeUnavailable(err);
      }
    },
    close() {
      client.destroy();
    },
  };
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}
