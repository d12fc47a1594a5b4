import { createHmac, hkdfSync } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Logger } from '../log/logger.js';
import { AppError } from '../shared/errors.js';
import { createSealer, type Sealer } from '../shared/seal.js';
import type { RedisClient } from '../store/client.js';
import { ttl, type Keys } from '../store/keys.js';
import { defineScript, reply } from '../store/lua.js';
import { clientOf } from './auth.js';

/**
 * `fp` is a keyed hash of the request; a finished request's status and body are `sealed` (AES-GCM,
 * bound to the record's key): an answer may hold a DID, a balance or a link, and the store never
 * holds one in clear (DESIGN A5), for the 24 hours a key is kept least of all.
 */
type IdempotencyRecord = { state: 'in_flight'; fp: string } | { state: 'done'; fp: string; sealed: string };

interface StoredAnswer {
  status: number;
  body: unknown;
}

// RFC 9110 field value without the structured-field quotes: visible ASCII, as Stripe accepts.
const KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * `Idempotency-Key` on a POST (IETF httpapi-idempotency-key-header, with Stripe's choices): the first
 * request claims the key atomically (SET NX); its answer is stored before it is sent and replayed
 * for the same key and the same request; the same key with another request is 422, and while the
 * first is still running 409. A request that never really ran (400 invalid body, 429, 5xx) frees
 * the key so the client can retry with it. Keys are per API client and kept `ttl.idempotencyMs`.
 */
export function idempotency(deps: { redis: RedisClient; keys: Keys; logger: Logger; dataSecret: Buffer }): RequestHandler {
  const { redis, keys } = deps;
  const log = deps.logger.child({ component: 'idempotency' });
  const sealer = createSealer(deps.dataSecret, 'idempotency-answer');
  const fingerprint = requestFingerprint(Buffer.from(hkdfSync('sha256', deps.dataSecret, 'vaultline', 'idempotency-fingerprint-v1', 32)));

  return async (req, res, next) => {
    const header = req.get('Idempotency-Key');
    if (header === undefined) return next();
    const key = header.replace(/^"(.*)"$/, '$1');
    if (!KEY.test(key)) throw new AppError('bad_request', 'Idempotency-Key must be 1 to 255 visible ASCII characters.');

    const storeKey = keys.idempotency(clientOf(res), key);
    const fp = fingerprint(req.method, `${req.baseUrl}${req.path}`, req.body);
    const inFlight = JSON.stringify({ state: 'in_flight', fp } satisfies IdempotencyRecord);

    // Twice: the in-flight claim may expire between our SET NX and our GET.
    for (let attempt = 0; attempt < 2; attempt++) {
      if ((await redis.set(storeKey, inFlight, 'PX', ttl.idempotencyInFlightMs, 'NX')) === 'OK') {
        storeBeforeSending(res, { redis, storeKey, fp, inFlight, sealer, log });
        return next();
      }
      const raw = await redis.get(storeKey);
      if (raw === null) continue;
      const record = JSON.parse(raw) as IdempotencyRecord;
      if (record.fp !== fp) throw new AppError('idempotency_key_reused', 'This Idempotency-Key was used for another request.');
      if (record.state === 'in_flight') break;
      const answer = JSON.parse(sealer.unseal(record.sealed, storeKey)) as StoredAnswer;
      res.setHeader('Idempotent-Replayed', 'true');
      res.status(answer.status);
      if (answer.body === null) res.end();
      else res.json(answer.body);
      return;
    }
    throw new AppError('idempotency_in_flight', 'A request with this Idempotency-Key is still being processed. Retry shortly.');
  };
}

/**
 * Wraps `res.json` so the answer is in the store before the client sees it: a client that retries
 * the moment it gets the answer finds the stored one, never a stale in-flight claim.
 */
function storeBeforeSending(
  res: Response,
  ctx: { redis: RedisClient; storeKey: string; fp: string; inFlight: string; sealer: Sealer; log: Logger },
): void {
  const send = res.json.bind(res);
  res.json = (body: unknown) => {
    const status = res.statusCode;
    const ran = status < 500 && status !== 400 && status !== 429;
    const answer: StoredAnswer = { status, body: status === 204 ? null : (body ?? null) };
    const done: IdempotencyRecord = { state: 'done', fp: ctx.fp, sealed: ctx.sealer.seal(JSON.stringify(answer), ctx.storeKey) };
    const write = ran
      ? ctx.redis.set(ctx.storeKey, JSON.stringify(done), 'PX', ttl.idempotencyMs)
      : releaseIfInFlight(ctx.redis, { record: ctx.storeKey }, { inFlight: ctx.inFlight });
    // A store failure still lets the answer out: the key then simply expires as in flight.
    write
      .catch((err: unknown) => ctx.log.warn({ err }, 'could not store the Idempotency-Key answer'))
      .then(() => send(body))
      .catch((err: unknown) => ctx.log.error({ err }, 'could not send an API answer'));
    return res;
  };
}

/** Frees the key only while it still holds our in-flight claim. */
const releaseIfInFlight = defineScript({ file: 'idempotency-release', keys: ['record'], args: ['inFlight'], decode: (raw) => reply.number(raw) === 1 });

/**
 * Method, path and body with object keys sorted: the same JSON in another key order is the same
 * request. Keyed, because a body can hold what a plain hash would let anyone confirm by guessing
 * (a calling number beside a call id).
 */
function requestFingerprint(key: Buffer) {
  return (method: string, path: string, body: unknown): string =>
    createHmac('sha256', key).update(`${method} ${path}\n${canonical(body ?? null)}`).digest('base64url');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
