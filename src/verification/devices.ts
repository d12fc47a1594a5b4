import { importJWK, type JWK } from 'jose';
import { AppError } from '../shared/errors.js';
import type { Clock, Random } from '../shared/clock.js';
import type { RedisClient } from '../store/client.js';
import type { Keys } from '../store/keys.js';
import { defineScript, reply } from '../store/lua.js';

/** DESIGN A4: the only device key types, each with the one JWS `alg` it may sign with. */
export type DeviceAlg = 'ES256' | 'EdDSA';
export type DeviceStatus = 'active' | 'revoked';

/** The public members we keep of an enrolled key; everything else the app sent is dropped. */
export type DevicePublicJwk = { kty: 'EC'; crv: 'P-256'; x: string; y: string } | { kty: 'OKP'; crv: 'Ed25519'; x: string };

export interface Device {
  deviceId: string;
  customerId: string;
  label: string;
  publicJwk: DevicePublicJwk;
  alg: DeviceAlg;
  status: DeviceStatus;
  /** ISO 8601 UTC. */
  createdAt: string;
}

export interface EnrollInput {
  customerId: string;
  /** Validated here, whatever the caller already checked: the device key is the root of the proof. */
  publicJwk: unknown;
  label: string;
}

export interface Devices {
  enroll(input: EnrollInput): Promise<{ deviceId: string }>;
  /** Permanent. Resolves `false` when no such device was ever enrolled; revoking twice is `true` twice. */
  revoke(deviceId: string): Promise<boolean>;
  get(deviceId: string): Promise<Device | null>;
}

/** `dev_` + 128 random bits, base64url (22 characters). */
const DEVICE_ID = /^dev_[A-Za-z0-9_-]{22}$/;
export const isDeviceId = (value: string): boolean => DEVICE_ID.test(value);

/** RFC 7518 §6.2.2, §6.3.2, §6.4.1 and RFC 8037 §2: any of these means the key is not a public key. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const B64URL = /^[A-Za-z0-9_-]+$/;
const MAX_ID = 128;
const MAX_LABEL = 100;

/** 1 when the device exists (now revoked), 0 when it was never enrolled. */
const revokeScript = defineScript({ file: 'device-revoke', keys: ['device'], args: ['revokedAt'], decode: (raw) => reply.number(raw) === 1 });

export function createDevices(deps: {
  redis: RedisClient;
  keys: Keys;
  clock: Clock;
  random: Random;
  /** Resolves once a replica holds the write, where replicas exist (store/replication.ts). */
  replicaAck?: (key: string) => Promise<void>;
}): Devices {
  const { redis, keys, clock, random } = deps;
  const replicated = deps.replicaAck ?? (() => Promise.resolve());

  return {
    async enroll({ customerId, publicJwk, label }) {
      if (typeof customerId !== 'string' || customerId.length === 0 || customerId.length > MAX_ID) {
        throw new AppError('bad_request', `customerId must be a string of 1 to ${MAX_ID} characters.`);
      }
      if (typeof label !== 'string' || label.length === 0 || label.length > MAX_LABEL) {
        throw new AppError('bad_request', `label must be a string of 1 to ${MAX_LABEL} characters.`);
      }
      const { jwk, alg } = await checkPublicJwk(publicJwk);
      const deviceId = `dev_${random.bytes(16).toString('base64url')}`;
      const key = keys.device(deviceId);
      await redis.hset(key, {
        deviceId,
        customerId,
        label,
        publicJwk: JSON.stringify(jwk),
        alg,
        status: 'active',
        createdAt: new Date(clock.now()).toISOString(),
      });
      try {
        await replicated(key);
      } catch (err) {
        // Nobody was told this device id: an enrolment a failover could lose is undone, not kept.
        await redis.del(key).catch(() => undefined);
        throw err;
      }
      return { deviceId };
    },

    async revoke(deviceId) {
      if (!isDeviceId(deviceId)) return false;
      const revoked = await revokeScript(redis, { device: keys.device(deviceId) }, { revokedAt: new Date(clock.now()).toISOString() });
      // Not acknowledged: the primary refuses the device already, and the 503 makes the admin
      // retry (revoking is idempotent) until a replica holds it too.
      if (revoked) await replicated(keys.device(deviceId));
      return revoked;
    },

    async get(deviceId) {
      // A kid we never issued is not worth a round trip, and never becomes part of a key.
      if (!isDeviceId(deviceId)) return null;
      const h = await redis.hgetall(keys.device(deviceId));
      if (!h.deviceId) return null;
      return parseDevice(h);
    },
  };
}

/** Refuses anything but a public EC P-256 or OKP Ed25519 key that jose can import. */
export async function checkPublicJwk(input: unknown): Promise<{ jwk: DevicePublicJwk; alg: DeviceAlg }> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new AppError('bad_request', 'publicJwk must be a JSON Web Key object.');
  }
  const raw = input as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((m) => m in raw)) {
    throw new AppError('bad_request', 'publicJwk must be a public key: private key members are refused.');
  }
  const str = (name: string) => {
    const v = raw[name];
    if (typeof v !== 'string' || !B64URL.test(v)) throw new AppError('bad_request', `publicJwk.${name} must be a base64url string.`);
    return v;
  };

  let jwk: DevicePublicJwk;
  let alg: DeviceAlg;
  if (raw.kty === 'EC' && raw.crv === 'P-256') {
    jwk = { kty: 'EC', crv: 'P-256', x: str('x'), y: str('y') };
    alg = 'ES256';
  } else if (raw.kty === 'OKP' && raw.crv === 'Ed25519') {
    jwk = { kty: 'OKP', crv: 'Ed25519', x: str('x') };
    alg = 'EdDSA';
  } else {
    throw new AppError('bad_request', 'publicJwk must be an EC P-256 (ES256) or OKP Ed25519 (EdDSA) key.');
  }
  // A key the app labelled for another algorithm or use is a confused client: refuse rather than guess.
  // 'Ed25519' is the fully-specified name (RFC 9864) for what A4 calls EdDSA.
  if (raw.alg !== undefined && raw.alg !== alg && !(alg === 'EdDSA' && raw.alg === 'Ed25519')) {
    throw new AppError('bad_request', `publicJwk.alg does not match its key type (expected ${alg}).`);
  }
  if (raw.use !== undefined && raw.use !== 'sig') {
    throw new AppError('bad_request', 'publicJwk.use must be "sig".');
  }
  if (raw.key_ops !== undefined && !(Array.isArray(raw.key_ops) && raw.key_ops.includes('verify'))) {
    throw new AppError('bad_request', 'publicJwk.key_ops must allow "verify".');
  }
  try {
    // WebCrypto checks coordinate lengths and that an EC point lies on the curve.
    await importJWK(jwk as JWK, alg);
  } catch (cause) {
    throw new AppError('bad_request', 'publicJwk is not a valid key.', { cause });
  }
  return { jwk, alg };
}

function parseDevice(h: Record<string, string>): Device {
  const { deviceId, customerId, label, publicJwk, alg, status, createdAt } = h;
  if (
    deviceId === undefined ||
    customerId === undefined ||
    publicJwk === undefined ||
    createdAt === undefined ||
    (alg !== 'ES256' && alg !== 'EdDSA') ||
    (status !== 'active' && status !== 'revoked')
  ) {
    // Only this module writes device hashes, so this is corruption, not bad input.
    throw new AppError('internal', 'A device record is damaged.');
  }
  return { deviceId, customerId, label: label ?? '', publicJwk: JSON.parse(publicJwk) as DevicePublicJwk, alg, status, createdAt };
}
