import { coresBetween, cpuSnapshot, type Bench, type Cores } from '../lib/context.js';
import { hammer, type HammerResult, type PooledRequest } from '../lib/hammer.js';
import { commandStats } from '../lib/redis-stats.js';
import { callParams, gatherPath, newCallSid, pressed, spokenCode } from '../lib/webhook.js';

/** The three hot webhooks, in the order a call meets them. */
export const HOT = ['incoming', 'menu', 'wait'] as const;
export type Hot = (typeof HOT)[number];

export interface PhaseFigures extends HammerResult {
  /** Client round trips to Redis per request (a MULTI…EXEC pipeline is one). */
  roundTrips: number;
  /** Commands the app sent per request. */
  commands: number;
  /** Commands Redis executed per request, including those inside Lua scripts (INFO commandstats). */
  serverCommands: number;
  /** Cores used meanwhile by the app, the load generator and Redis (they share the machine). */
  cores: Cores;
}

interface Counts {
  commands: number;
  roundTrips: number;
}

interface Call {
  sid: string;
  path: string;
}

/** Measures one phase against the app: load, plus what the app asked of Redis and of its core meanwhile. */
async function measured(b: Bench, run: () => Promise<HammerResult>): Promise<PhaseFigures> {
  const [c0, u0, s0] = await Promise.all([b.app.ask<Counts>('counts'), cpuSnapshot(b, 'app'), commandStats(b.redis)]);
  const r = await run();
  const [c1, u1, s1] = await Promise.all([b.app.ask<Counts>('counts'), cpuSnapshot(b, 'app'), commandStats(b.redis)]);
  const n = Math.max(1, r.requests);
  return {
    ...r,
    roundTrips: (c1.roundTrips - c0.roundTrips) / n,
    commands: (c1.commands - c0.commands) / n,
    serverCommands: (s1.total - s0.total) / n,
    cores: coresBetween(u0, u1, r.seconds * 1000),
  };
}

/**
 * Takes `calls` fresh calls through the hot webhooks, one phase per webhook, each phase with its own
 * load run: dial in (incoming call), press 1 at the main menu (opens verification, speaks the code),
 * press 1 in the wait loop (re-checks the session, still pending). Each call has its own CallSid and
 * every request its own signature, so the dedup never answers from a stored copy.
 */
export async function hotWebhookChain(b: Bench, calls: number, connections: number): Promise<Record<Hot, PhaseFigures>> {
  const { signer, publicBaseUrl } = b;
  const sign = (call: Call, extra: Record<string, string>): PooledRequest => ({
    ...signer.sign(call.path, callParams(signer.accountSid, call.sid, extra)),
    tag: call.sid,
  });
  const atMenu: Call[] = [];
  const waiting: Call[] = [];

  const incoming = await measured(b, () =>
    hammer({
      origin: b.origin,
      connections,
      amount: calls,
      next: () => sign({ sid: newCallSid(), path: '/twilio/voice' }, { CallStatus: 'ringing' }),
      onAnswer: (sid, _status, body) => {
        const path = gatherPath(body, publicBaseUrl);
        if (path && body.includes('press 1')) atMenu.push({ sid, path });
        return path !== undefined;
      },
    }),
  );

  const enough = (pool: Call[], phase: string) => {
    if (pool.length < Math.max(connections, calls / 2)) {
      throw new Error(`${phase}: only ${pool.length} of ${calls} calls got there; the app is not answering as expected`);
    }
  };
  enough(atMenu, 'menu digit');
  let i = 0;
  const menu = await measured(b, () =>
    hammer({
      origin: b.origin,
      connections,
      amount: atMenu.length,
      next: () => sign(atMenu[i++] as Call, pressed('1')),
      onAnswer: (sid, _status, body) => {
        const path = gatherPath(body, publicBaseUrl);
        if (!path || !spokenCode(body)) return false;
        waiting.push({ sid, path });
        return true;
      },
    }),
  );

  enough(waiting, 'wait-loop turn');
  let j = 0;
  const wait = await measured(b, () =>
    hammer({
      origin: b.origin,
      connections,
      amount: waiting.length,
      next: () => sign(waiting[j++] as Call, pressed('1')),
      onAnswer: (_sid, _status, body) => body.includes('not received your confirmation') && gatherPath(body, publicBaseUrl) !== undefined,
    }),
  );
  return { incoming, menu, wait };
}

export interface BaselineFigures {
  bare: HammerResult & { cores: Cores };
  sample: HammerResult & { cores: Cores };
}

/** The two baselines under the same load shape and the same signed incoming-call form. */
export async function baselines(b: Bench, seconds: number, connections: number): Promise<BaselineFigures> {
  const run = async (path: '/bare' | '/sample') => {
    const req = { ...b.signer.sign(path, callParams(b.signer.accountSid, newCallSid(), { CallStatus: 'ringing' })), tag: path };
    // A short warm-up so both baselines are measured hot, like the app.
    await hammer({ origin: b.baselineOrigin, connections, seconds: 1, next: () => req });
    const u0 = await cpuSnapshot(b, 'baseline');
    const r = await hammer({ origin: b.baselineOrigin, connections, seconds, next: () => req, onAnswer: (_t, _s, body) => body.includes('press 1') });
    const u1 = await cpuSnapshot(b, 'baseline');
    return { ...r, cores: coresBetween(u0, u1, r.seconds * 1000) };
  };
  return { bare: await run('/bare'), sample: await run('/sample') };
}
