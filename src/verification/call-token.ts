import { errors, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { SigningJwk } from '../config/load.js';
import { cryptoRandom, type Clock, type Random } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';

/** DESIGN A7: the call-bound token's `typ`, lifetime and authentication method. */
export const CALL_TOKEN_TYP = 'call+jwt';
export const CALL_TOKEN_LIFETIME_SECONDS = 300;
/**
 * Tolerates clock drift between app instances (DESIGN B2: up to 30 s): a token minted on an
 * instance 30 s ahead is not "issued in the future" on one 30 s behind. Far below the lifetime.
 */
export const CALL_TOKEN_CLOCK_TOLERANCE_SECONDS = 30;
const MAX_TOKEN_BYTES = 4 * 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Header members that would let the token pick its own key (RFC 7515 §4.1) or add rules we do not know. */
const FORBIDDEN_HEADER_MEMBERS = ['jwk', 'jku', 'x5u', 'x5c', 'crit'] as const;
const REFUSAL_MESSAGE = 'The call token is not valid for this call.';

type TokenAlg = 'ES256' | 'EdDSA';

/** Why a call token was refused: for logs and metric labels, never for the caller. */
export type CallTokenRefusal =
  | 'malformed'
  | 'alg_not_allowed'
  | 'bad_typ'
  | 'embedded_key'
  | 'crit'
  | 'missing_kid'
  | 'unknown_kid'
  | 'bad_signature'
  | 'missing_claim'
  | 'bad_claim'
  | 'bad_issuer'
  | 'bad_audience'
  | 'expired'
  | 'issued_in_future'
  | 'bad_lifetime'
  | 'other_call'
  | 'call_ended';

/** One answer for every refusal (401), so it tells nothing about the token; `reason` is for logs only. */
export class InvalidCallTokenError extends AppError {
  constructor(readonly reason: CallTokenRefusal) {
    // No cause: a jose error carries the claims, and the claims name the customer and the call.
    super('unauthorized', REFUSAL_MESSAGE);
  }
}

/**
 * Refusals that come after our signature held: the token is one we minted (expired, for another
 * call, the call ended…). Everything else — not a JWS, a foreign `kid`, a bad signature — could be
 * any string, and is refused without an audit event (A9: `token_rejected` is a token we signed).
 */
const REFUSED_AFTER_SIGNATURE: ReadonlySet<string> = new Set<CallTokenRefusal>([
  'missing_claim', 'bad_claim', 'bad_issuer', 'bad_audience', 'expired', 'issued_in_future', 'bad_lifetime', 'other_call', 'call_ended',
]);

export function isOurTokenRefused(reason: string): boolean {
  return REFUSED_AFTER_SIGNATURE.has(reason);
}

export interface MintedCallToken {
  token: string;
  jti: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export interface VerifiedCallToken {
  customerId: string;
  callId: string;
  sessionId: string;
  jti: string;
  /** Seconds since the epoch (JWT NumericDate). */
  exp: number;
}

export interface CallTokens {
  mint(input: { customerId: string; callId: string; sessionId: string }): Promise<MintedCallToken>;
  /** Resolves only for a token of ours, for this call, unexpired, while the call lives; else InvalidCallTokenError. */
  verify(token: string, request: { callId: string }): Promise<VerifiedCallToken>;
}

export interface CallTokenDeps {
  /** TOKEN_SIGNING_KEYS: the first signs, every one verifies. Empty = one generated key (development). */
  signingKeys: readonly SigningJwk[];
  /** PUBLIC_BASE_URL: both `iss` and `aud`. */
  issuer: string;
  clock: Clock;
  /**
   * Whether the call still accepts the token with this jti, from the store (the same answer on
   * every instance): false once the call ended or a later token replaced it. A store failure
   * propagates (fail closed), it is not a refusal.
   */
  isTokenLive: (callId: string, jti: string) => Promise<boolean>;
  random?: Random;
}

interface KeyEntry {
  kid: string;
  alg: TokenAlg;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export async function createCallTokens(deps: CallTokenDeps): Promise<CallTokens> {
  const { issuer, clock, isTokenLive } = deps;
  const random = deps.random ?? cryptoRandom;
  const entries = deps.signingKeys.length > 0 ? await Promise.all(deps.signingKeys.map(importSigningKey)) : [await generateDevKey(random)];
  const byKid = new Map<string, KeyEntry>();
  for (const e of entries) {
    if (byKid.has(e.kid)) throw new Error(`TOKEN_SIGNING_KEYS: kid "${e.kid}" is listed twice`);
    byKid.set(e.kid, e);
  }
  const signer = entries[0] as KeyEntry;
  const fail = (reason: CallTokenRefusal): never => {
    throw new InvalidCallTokenError(reason);
  };

  return {
    async mint({ customerId, callId, sessionId }) {
      const iat = Math.floor(clock.now() / 1000);
      const exp = iat + CALL_TOKEN_LIFETIME_SECONDS;
      const jti = random.bytes(16).toString('base64url');
      const token = await new SignJWT({ cid: callId, sid: sessionId, amr: ['did'] })
        .setProtectedHeader({ alg: signer.alg, typ: CALL_TOKEN_TYP, kid: signer.kid })
        .setIssuer(issuer)
        .setAudience(issuer)
        .setSubject(customerId)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .setJti(jti)
        .sign(signer.privateKey);
      return { token, jti, expiresAt: exp * 1000 };
    },

    async verify(input, request) {
      if (typeof input !== 'string' || Buffer.byteLength(input) > MAX_TOKEN_BYTES) return fail('malformed');
      if (!COMPACT_JWS.test(input)) return fail('malformed');
      const header = decodeHeader(input) ?? fail('malformed');
      // Checked before jose sees the token: the list is ours, never the token's.
      if (header.alg !== 'ES256' && header.alg !== 'EdDSA') return fail('alg_not_allowed');
      // Exact match: jose would also accept `application/call+jwt`, and a device confirmation must never pass.
      if (header.typ !== CALL_TOKEN_TYP) return fail('bad_typ');
      for (const member of FORBIDDEN_HEADER_MEMBERS) {
        if (Object.hasOwn(header, member)) return fail(member === 'crit' ? 'crit' : 'embedded_key');
      }
      if (typeof header.kid !== 'string' || header.kid.length === 0) return fail('missing_kid');
      const key = byKid.get(header.kid) ?? fail('unknown_kid');
      // The key decides the algorithm: an ES256 key is never asked to check an EdDSA signature.
      if (header.alg !== key.alg) return fail('alg_not_allowed');

      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(input, key.publicKey, {
          algorithms: [key.alg],
          typ: CALL_TOKEN_TYP,
          issuer,
          audience: issuer,
          requiredClaims: ['iss', 'aud', 'sub', 'cid', 'sid', 'exp', 'iat', 'jti'],
          currentDate: new Date(clock.now()),
          clockTolerance: CALL_TOKEN_CLOCK_TOLERANCE_SECONDS,
          // Also refuses an `iat` from the future.
          maxTokenAge: CALL_TOKEN_LIFETIME_SECONDS,
        }));
      } catch (err) {
        return fail(classify(err));
      }

      const { sub, cid, sid, jti, iat, exp, aud, amr } = payload;
      // jose accepts an `aud` array that contains us; A7 says the audience is exactly our base URL.
      if (aud !== issuer) return fail('bad_audience');
      if (!isId(sub) || !isId(cid) || !isId(sid) || !isId(jti)) return fail('bad_claim');
      if (!Array.isArray(amr) || !amr.includes('did')) return fail('bad_claim');
      if (typeof iat !== 'number' || typeof exp !== 'number') return fail('bad_claim');
      if (exp <= iat || exp - iat > CALL_TOKEN_LIFETIME_SECONDS) return fail('bad_lifetime');
      if (cid !== request.callId) return fail('other_call');
      if (!(await isTokenLive(cid, jti))) return fail('call_ended');
      return { customerId: sub, callId: cid, sessionId: sid, jti, exp };
    },
  };
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 256;
}

function algOf(jwk: SigningJwk): TokenAlg {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  throw new Error(`TOKEN_SIGNING_KEYS: key "${jwk.kid}" is neither EC P-256 nor OKP Ed25519`);
}

async function importSigningKey(jwk: SigningJwk): Promise<KeyEntry> {
  const alg = algOf(jwk);
  if (jwk.alg !== undefined && jwk.alg !== alg) throw new Error(`TOKEN_SIGNING_KEYS: key "${jwk.kid}" says alg ${String(jwk.alg)}, its curve means ${alg}`);
  // Only the public members: a `d`, `key_ops: ["sign"]` or `use` would stop the key from verifying.
  const publicJwk: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x as string, ...(jwk.kty === 'EC' ? { y: jwk.y as string } : {}) };
  try {
    const [privateKey, publicKey] = await Promise.all([importJWK(jwk as JWK, alg), importJWK(publicJwk, alg)]);
    // importJWK of an asymmetric JWK always yields a CryptoKey (bytes only for `oct`).
    return { kid: jwk.kid, alg, privateKey: privateKey as CryptoKey, publicKey: publicKey as CryptoKey };
  } catch {
    // The library's message could quote the key; name the kid only.
    throw new Error(`TOKEN_SIGNING_KEYS: key "${jwk.kid}" could not be imported (check x, y and d)`);
  }
}

/** Development only (config refuses an empty list in production): tokens die with the process, which is fine there. */
async function generateDevKey(random: Random): Promise<KeyEntry> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { kid: `dev-${random.bytes(9).toString('base64url')}`, alg: 'ES256', privateKey, publicKey };
}

function decodeHeader(jws: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(jws.slice(0, jws.indexOf('.')), 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function classify(err: unknown): CallTokenRefusal {
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return 'missing_claim';
    if (err.claim === 'iss') return 'bad_issuer';
    if (err.claim === 'aud') return 'bad_audience';
    if (err.claim === 'iat') return 'issued_in_future';
    if (err.claim === 'typ') return 'bad_typ';
    return 'bad_claim';
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  // Anything else (a malformed payload, an unexpected library error) is still a refusal, never a 500.
  return 'malformed';
}
