import type { Bench } from '../lib/context.js';
import { httpClient, inParallel } from '../lib/http.js';
import { keyBytes, usedMemory } from '../lib/redis-stats.js';
import { callParams, gatherPath, newCallSid, pressed } from '../lib/webhook.js';

export interface FootprintFigures {
  calls: number;
  /** Webhooks each call had answered when measured. */
  webhooksPerCall: number;
  /** MEMORY USAGE of every key of the calls, per call (Redis' own per-key overhead included). */
  bytesPerLiveCall: number;
  /** The same, by kind of key (call hash, engine state, dedup answers, audit timeline, session, DID claim). */
  byKind: Record<string, number>;
  /** INFO used_memory grown per call (also counts the keyspace's own tables). */
  usedMemoryPerLiveCall: number;
  /** One stored dedup answer (a webhook's TwiML kept for retries). */
  bytesPerDedupAnswer: number;
  /** What stays per call once it has ended (status callback completed). */
  bytesPerEndedCall: number;
  /** What one more wait-loop turn adds per call (the answer slot is replaced, so: its audit entry). */
  bytesPerFurtherTurn: number;
}

export function kindOf(key: string, prefix: string): string {
  const rest = key.slice(prefix.length);
  if (/^c:\{[^}]+\}:wh:/.test(rest)) return 'dedup answers';
  if (/^c:\{[^}]+\}:ses:/.test(rest)) return 'session';
  if (/^c:\{[^}]+\}:call$/.test(rest)) return 'call hash';
  if (/^c:\{[^}]+\}:ivr$/.test(rest)) return 'engine state';
  if (/^c:\{[^}]+\}:audit$/.test(rest)) return 'audit timeline';
  if (rest.startsWith('did:')) return 'DID claim';
  return 'other';
}

const sumByKind = (bytes: Map<string, number>, prefix: string) => {
  const byKind: Record<string, number> = {};
  let total = 0;
  let dedupKeys = 0;
  for (const [key, n] of bytes) {
    const kind = kindOf(key, prefix);
    if (kind === 'other') continue;
    byKind[kind] = (byKind[kind] ?? 0) + n;
    total += n;
    if (kind === 'dedup answers') dedupKeys++;
  }
  return { byKind, total, dedupKeys };
};

/**
 * Redis bytes per live call: `calls` calls dial in, press 1 (verification opens, the code is
 * spoken) and take two wait-loop turns, the state a caller holds while typing the code into the app.
 * Redis starts empty (the app keeps nothing in process, so emptying Redis between scenarios is safe).
 */
export async function redisFootprint(b: Bench, calls: number): Promise<FootprintFigures> {
  await b.redis.flushall();
  const before = await usedMemory(b.redis);
  const http = httpClient(b.origin, 16);
  const sids = Array.from({ length: calls }, () => newCallSid());
  const post = async (sid: string, path: string, extra: Record<string, string>) => {
    const req = b.signer.sign(path, callParams(b.signer.accountSid, sid, extra));
    const answer = await http.post(req.path, req.body, req.headers);
    if (answer.status !== 200) throw new Error(`footprint: ${path} answered ${answer.status}`);
    return gatherPath(answer.body, b.publicBaseUrl);
  };
  const webhooksPerCall = 4;
  const next = new Map<string, string>();
  await inParallel(sids, 16, async (sid) => {
    let path = await post(sid, '/twilio/voice', { CallStatus: 'ringing' });
    for (let turn = 1; turn < webhooksPerCall; turn++) {
      if (!path) throw new Error('footprint: the call left the flow early');
      path = await post(sid, path, pressed('1'));
    }
    if (!path) throw new Error('footprint: the call left the flow early');
    next.set(sid, path);
  });
  const live = sumByKind(await keyBytes(b.redis, b.prefix), b.prefix);
  const after = await usedMemory(b.redis);

  // One more wait-loop turn each: does a longer call cost more, and by how much?
  await inParallel(sids, 16, (sid) => post(sid, next.get(sid) ?? '', pressed('1')));
  const further = sumByKind(await keyBytes(b.redis, b.prefix), b.prefix);

  await inParallel(sids, 16, (sid) => post(sid, '/twilio/status', { CallStatus: 'completed', CallDuration: '42' }));
  // Ended calls keep their dedup answers (until their TTL) and audit timeline; count what stays for good.
  const ended = sumByKind(await keyBytes(b.redis, b.prefix), b.prefix);
  http.close();

  const perCall = (n: number) => n / calls;
  return {
    calls,
    webhooksPerCall,
    bytesPerLiveCall: perCall(live.total),
    byKind: Object.fromEntries(Object.entries(live.byKind).map(([k, v]) => [k, perCall(v)])),
    usedMemoryPerLiveCall: perCall(after - before),
    bytesPerDedupAnswer: (live.byKind['dedup answers'] ?? 0) / Math.max(1, live.dedupKeys),
    bytesPerEndedCall: perCall(ended.total - (ended.byKind['dedup answers'] ?? 0)),
    bytesPerFurtherTurn: perCall(further.total - live.total),
  };
}
