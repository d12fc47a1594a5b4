/**
 * The few error classes of the app. Each carries a stable `code`; one middleware maps the code
 * to an HTTP status (JSON routes) or to safe TwiML (`/twilio/*`). Messages are safe to show:
 * they never carry a DID, a token, an account number or a phone number.
 */
export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'invalid_signature'
  | 'replayed'
  | 'code_not_recognized'
  | 'locked'
  | 'rate_limited'
  /** A5: a fourth statement SMS in one call. */
  | 'sms_limit'
  | 'idempotency_key_reused'
  | 'idempotency_in_flight'
  | 'too_large'
  | 'unavailable'
  | 'store_unavailable'
  | 'internal';

export const statusOf: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  invalid_signature: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  replayed: 409,
  idempotency_in_flight: 409,
  too_large: 413,
  code_not_recognized: 422,
  idempotency_key_reused: 422,
  locked: 429,
  rate_limited: 429,
  sms_limit: 429,
  unavailable: 503,
  store_unavailable: 503,
  internal: 500,
};

export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
  readonly retryAfterSeconds: number | undefined;
}

/** The store cannot take the write (away, read-only, or not acknowledged by a replica): callers fail closed. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'store_unavailable' as const;
}

/**
 * ioredis errors when the store is down, slow or read-only (a replica after a failover): fail
 * closed, never a stack trace. A wrapped one (a library that kept the store's error as `cause`)
 * counts too.
 */
export function isStoreError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e instanceof StoreUnavailableError || e.name === 'MaxRetriesPerRequestError' || STORE_FAILURE.test(e.message)) return true;
  }
  return false;
}

const STORE_FAILURE =
  /Command timed out|Connection is closed|enableOfflineQueue|ECONNREFUSED|Stream isn't writeable|ClusterAllFailedError|Failed to refresh slots|None of startup nodes|\bREADONLY\b|\bLOADING\b|\bMASTERDOWN\b|\bCLUSTERDOWN\b|\bNOAUTH\b|All sentinels are unreachable/i;
