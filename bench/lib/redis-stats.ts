import type { Redis } from 'ioredis';

/** Commands the benchmark itself sends to inspect Redis; they are not the app's. */
const INSPECTION = new Set(['info', 'memory|usage', 'scan', 'flushall', 'config|resetstat', 'ping', 'dbsize', 'client|setname', 'hello']);

/**
 * Commands Redis executed, by name, from `INFO commandstats`. This counts commands run inside Lua
 * scripts too, so it is the server's work, not the client's round trips.
 */
export async function commandStats(redis: Redis): Promise<{ total: number; byCommand: Record<string, number> }> {
  const text = await redis.info('commandstats');
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (!m?.[1] || !m[2] || INSPECTION.has(m[1])) continue;
    byCommand[m[1]] = Number(m[2]);
    total += Number(m[2]);
  }
  return { total, byCommand };
}

export async function usedMemory(redis: Redis): Promise<number> {
  const text = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(text)?.[1] ?? NaN);
}

/** Every key under `prefix` with its MEMORY USAGE (bytes, including Redis' own per-key overhead). */
export async function keyBytes(redis: Redis, prefix: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const k of keys) pipeline.memory('USAGE', k, 'SAMPLES', 0);
    const answers = (await pipeline.exec()) ?? [];
    keys.forEach((k, i) => out.set(k, Number(answers[i]?.[1] ?? 0)));
  } while (cursor !== '0');
  return out;
}
