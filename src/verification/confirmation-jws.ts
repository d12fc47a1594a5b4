import { errors, importJWK, jwtVerify, type JWK } from 'jose';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import type { DeviceAlg, Devices } from './devices.js';

/** DESIGN A4: the device-side confirmation, `typ` and limits. */
export const CONFIRMATION_TYP = 'did-confirmation+jwt';
export const MAX_CONFIRMATION_BYTES = 8 * 1024;
export const MAX_LIFETIME_SECONDS = 120;
export const CLOCK_TOLERANCE_SECONDS = 30;
const MAX_JTI_LENGTH = 128;
const ALLOWED_ALGS: readonly string[] = ['ES256', 'EdDSA'] satisfies DeviceAlg[];
/** Header members that would let the token choose its own key (RFC 7515 §4.1) or add rules we do not know. */
const FORBIDDEN_HEADER_MEMBERS = ['jwk', 'jku', 'x5u', 'x5c', 'crit'] as const;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const DID = /^\d{6,10}$/;

/** Why a confirmation was refused: for logs and the `reason` label of the refusal metric, never for the caller. */
export type ConfirmationFailure =
  | 'too_large'
  | 'malformed'
  | 'alg_not_allowed'
  | 'bad_typ'
  | 'missing_kid'
  | 'embedded_key'
  | 'crit'
  | 'unknown_device'
  | 'revoked_device'
  | 'alg_mismatch'
  | 'bad_signature'
  | 'missing_claim'
  | 'bad_claim'
  | 'bad_audience'
  | 'expired'
  | 'stale'
  | 'issued_in_future'
  | 'bad_lifetime';

/** One safe message for every failure (A4: 401 `invalid_signature`), so the answer reveals nothing. */
export class InvalidConfirmationError extends AppError {
  constructor(
    readonly reason: ConfirmationFailure,
    detail?: string,
  ) {
    // The cause names the check only; it never carries the JWS, its claims or a jose error (whose `payload` holds the DID).
    super('invalid_signature', 'The confirmation could not be verified.', { cause: new Error(detail ? `${reason}: ${detail}` : reason) });
  }
}

export interface VerifiedConfirmation {
  deviceId: string;
  customerId: string;
  did: string;
  jti: string;
  iat: number;
  exp: number;
}

export interface ConfirmationVerifier {
  /** Checks the JWS itself (A4's 401 checks). jti reuse, lockout and the code are the caller's. */
  verify(compactJws: string): Promise<VerifiedConfirmation>;
}

/** Imported device keys kept per verifier; past this many the oldest goes first. */
const MAX_IMPORTED_KEYS = 10_000;

export function createConfirmationVerifier(deps: { devices: Devices; audience: string; clock: Clock }): ConfirmationVerifier {
  const { devices, audience, clock } = deps;
  // Importing a JWK into WebCrypto cost ~120 µs of every confirmation (bench/, BENCHMARKS.md). The
  // imported key depends only on the key material, so it is kept per key; whether the device is
  // still active is read from the store on every confirmation, before the key is used.
  const imported = new Map<string, ReturnType<typeof importJWK>>();
  const importKey = (jwk: JWK, alg: DeviceAlg): ReturnType<typeof importJWK> => {
    const id = `${alg}:${JSON.stringify(jwk)}`;
    const known = imported.get(id);
    if (known) return known;
    const key = importJWK(jwk, alg);
    if (imported.size >= MAX_IMPORTED_KEYS) imported.delete(imported.keys().next().value as string);
    imported.set(id, key);
    key.catch(() => imported.delete(id));
    return key;
  };
  const fail = (reason: ConfirmationFailure, detail?: string): never => {
    throw new InvalidConfirmationError(reason, detail);
  };

  return {
    async verify(input) {
      if (typeof input !== 'string') return fail('malformed');
      if (Buffer.byteLength(input) > MAX_CONFIRMATION_BYTES) return fail('too_large');
      // Tolerates a trailing newline from a client's body writer; nothing inside the token is touched.
      const jws = input.trim();
      if (!COMPACT_JWS.test(jws)) return fail('malformed');

      const header = decodeHeader(jws) ?? fail('malformed');
      const alg = header.alg;
      if (typeof alg !== 'string' || !ALLOWED_ALGS.includes(alg)) return fail('alg_not_allowed', String(alg).slice(0, 16));
      if (header.typ !== CONFIRMATION_TYP) return fail('bad_typ');
      for (const member of FORBIDDEN_HEADER_MEMBERS) {
        if (Object.hasOwn(header, member)) return fail(member === 'crit' ? 'crit' : 'embedded_key', member);
      }
      const kid = header.kid;
      if (typeof kid !== 'string' || kid.length === 0) return fail('missing_kid');

      const device = await devices.get(kid);
      if (!device) return fail('unknown_device');
      if (device.status !== 'active') return fail('revoked_device');
      // The key type decides the algorithm, never the token: an ES256 device cannot be asked to verify EdDSA.
      if (alg !== device.alg) return fail('alg_mismatch');

      const key = await importKey(device.publicJwk as JWK, device.alg);
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(jws, key, {
          algorithms: [device.alg],
          typ: CONFIRMATION_TYP,
          audience,
          requiredClaims: ['did', 'aud', 'iat', 'exp', 'jti'],
          currentDate: new Date(clock.now()),
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          // Also makes jose refuse an `iat` more than the tolerance in the future.
          maxTokenAge: MAX_LIFETIME_SECONDS,
        }));
      } catch (err) {
        return fail(...classify(err));
      }

      const { did, aud, iat, exp, jti } = payload;
      // jose accepts an `aud` array that contains us; A4 says the audience is exactly our base URL.
      if (aud !== audience) return fail('bad_audience');
      if (typeof did !== 'string' || !DID.test(did)) return fail('bad_claim', 'did');
      if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) return fail('bad_claim', 'jti');
      if (typeof iat !== 'number' || typeof exp !== 'number') return fail('bad_claim', 'iat/exp');
      if (exp <= iat || exp - iat > MAX_LIFETIME_SECONDS) return fail('bad_lifetime');

      return { deviceId: device.deviceId, customerId: device.customerId, did, jti, iat, exp };
    },
  };
}

function decodeHeader(jws: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(jws.slice(0, jws.indexOf('.')), 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function classify(err: unknown): [ConfirmationFailure, string?] {
  if (err instanceof errors.JWSSignatureVerificationFailed) return ['bad_signature'];
  if (err instanceof errors.JWTExpired) return err.claim === 'iat' ? ['stale'] : ['expired'];
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return ['missing_claim', err.claim];
    if (err.claim === 'aud') return ['bad_audience'];
    if (err.claim === 'iat' && err.reason === 'check_failed') return ['issued_in_future'];
    if (err.claim === 'typ') return ['bad_typ'];
    return ['bad_claim', err.claim];
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return ['alg_not_allowed'];
  if (err instanceof errors.JOSEError) return ['malformed', err.code];
  // A bug or an unexpected library error is still a refusal, never a 500 that hints at the token's shape.
  return ['malformed', err instanceof Error ? err.name : 'unknown'];
}
