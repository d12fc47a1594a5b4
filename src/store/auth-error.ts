import type { StoreConfig } from '../config/load.js';

/** What Redis and Sentinel answer to a missing or wrong password (AUTH, or a command before it). */
const AUTH_REFUSED = /\b(WRONGPASS|NOAUTH)\b|invalid password|AUTH <password> called without any password|invalid username-password/i;
/** ioredis's Sentinel connector, when every Sentinel failed: the Sentinels' own answer follows "Last error:". */
const SENTINELS_FAILED = /All sentinels are unreachable/;

/**
 * The reason an ioredis error carries, the node's own for a Cluster (ioredis wraps it in "Failed to
 * refresh slots cache." with the node's error as `lastNodeError`).
 */
export function errorReason(err: Error): string {
  const node = (err as Error & { lastNodeError?: unknown }).lastNodeError;
  return node instanceof Error && node.message ? node.message : err.message || err.name;
}

/**
 * The setting whose password a store refused, or undefined when `err` is not a refused password:
 * REDIS_SENTINEL_PASSWORD when a Sentinel refused, REDIS_PASSWORD when a Cluster or
 * Sentinel-managed data node did, REDIS_URL (its password) for one Redis.
 */
export function refusedPasswordSetting(config: StoreConfig, err: Error): string | undefined {
  const reason = errorReason(err);
  if (!AUTH_REFUSED.test(reason)) return undefined;
  switch (config.kind) {
    case 'redis':
      return 'REDIS_URL';
    case 'cluster':
      return 'REDIS_PASSWORD';
    case 'sentinel':
      return SENTINELS_FAILED.test(reason) ? 'REDIS_SENTINEL_PASSWORD' : 'REDIS_PASSWORD';
    case 'embedded':
      return undefined;
  }
}
