import { setTimeout as sleepFor } from 'node:timers/promises';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { coresBetween, cpuSnapshot, type Bench, type Cores } from '../lib/context.js';
import { httpClient, type HttpClient } from '../lib/http.js';
import { usedMemory } from '../lib/redis-stats.js';
import { Samples, seededRandom, type Summary } from '../lib/stats.js';
import { callParams, gatherPath, newCallSid, pressed } from '../lib/webhook.js';

export const P99_LIMIT_MS = 50;

export interface CapacityStep {
  liveCalls: number;
  webhooksPerSecond: number;
  latencyMs: Summary;
  errors: number;
  held: boolean;
  cores: Cores;
  /** App heap after a full GC, minus the idle heap before the ramp, per live call. */
  heapBytesPerCall: number;
  /** Redis used_memory grown since the ramp began, per live call (includes answers of calls already ended). */
  redisBytesPerCall: number;
  /** p99 by kind of webhook (ms). */
  p99ByKind: Record<Kind, number>;
  /** Event-loop delay in the app and in the load generator during the window (ms). */
  loopDelayMs: { app: LoopDelay; generator: LoopDelay };
}

interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

export interface CapacityFigures {
  steps: CapacityStep[];
  /** The largest number of live calls held with p99 ≤ 50 ms and no errors (one app process = one core). */
  maxLiveCalls: number;
  heapBytesPerCall: number;
}

type Kind = 'incoming' | 'menu' | 'wait' | 'status';

interface Window {
  open: boolean;
  latency: Samples;
  byKind: Record<Kind, Samples>;
  errors: number;
}

const newWindow = (open: boolean): Window => ({
  open,
  latency: new Samples(),
  byKind: { incoming: new Samples(), menu: new Samples(), wait: new Samples(), status: new Samples() },
  errors: 0,
});

/**
 * Live calls as Twilio would drive them: each dials in, presses 1 at the menu, then answers the wait
 * loop (1, or silence) until the flow hands it to an agent, then its status callback ends it and a
 * new call takes its place. Between webhooks a call "thinks" 3–7 s (uniform), like a caller
 * listening to a prompt. Latency runs from handing the request to the HTTP client (so a queue for
 * a socket counts) to its last byte; the generator's own event-loop delay is reported beside it.
 */
class Simulator {
  private live = 0;
  private stopped = false;
  /** Pending think times, so a stop can end them at once (an AbortSignal per sleep costs O(lines) each). */
  private readonly sleeping = new Map<NodeJS.Timeout, () => void>();
  private readonly random = seededRandom(20261122);
  window: Window = newWindow(false);
  webhooks = 0;

  constructor(
    private readonly b: Bench,
    private readonly http: HttpClient,
  ) {}

  get liveCalls() {
    return this.live;
  }

  private think() {
    return 3000 + this.random() * 4000;
  }

  private async post(kind: Kind, sid: string, path: string, extra: Record<string, string>): Promise<string | undefined | null> {
    const req = this.b.signer.sign(path, callParams(this.b.signer.accountSid, sid, extra));
    const w = this.window;
    try {
      const answer = await this.http.post(req.path, req.body, req.headers, 5000);
      this.webhooks++;
      if (w.open) {
        w.latency.push(answer.ms);
        w.byKind[kind].push(answer.ms);
      }
      if (answer.status !== 200) {
        if (w.open) w.errors++;
        return null;
      }
      return gatherPath(answer.body, this.b.publicBaseUrl);
    } catch {
      if (w.open) w.errors++;
      return null;
    }
  }

  /** One line: call after call until the simulator stops. */
  private async line(firstDelayMs: number) {
    this.live++;
    await this.calls(firstDelayMs);
    this.live--;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeping.delete(timer);
        resolve();
      }, ms);
      this.sleeping.set(timer, resolve);
    });
  }

  private async calls(firstDelayMs: number) {
    await this.sleep(firstDelayMs);
    while (!this.stopped) {
      const sid = newCallSid();
      let path: string | undefined | null = await this.post('incoming', sid, '/twilio/voice', { CallStatus: 'ringing' });
      let turn = 0;
      while (path && !this.stopped) {
        await this.sleep(this.think());
        if (this.stopped) break;
        // Menu: balance (opens verification). Wait loop: "I have entered the code", or silence.
        const digits = turn === 0 || this.random() < 0.5 ? '1' : '';
        path = await this.post(turn === 0 ? 'menu' : 'wait', sid, path, pressed(digits));
        turn++;
      }
      if (this.stopped) break;
      await this.sleep(this.think());
      if (this.stopped) break;
      await this.post('status', sid, '/twilio/status', { CallStatus: 'completed', CallDuration: String(turn * 5) });
    }
  }

  /** Adds lines, their first dial spread evenly over `overMs`. */
  add(n: number, overMs: number) {
    for (let i = 0; i < n; i++) void this.line((i / n) * overMs);
  }

  /** Stops every line and resolves once the webhooks in flight are answered. */
  async stop() {
    this.stopped = true;
    for (const [timer, wake] of this.sleeping) {
      clearTimeout(timer);
      wake();
    }
    this.sleeping.clear();
    for (let i = 0; i < 100 && this.live > 0; i++) await sleepFor(50);
  }
}

/** Ramps live calls step by step until p99 passes 50 ms or a webhook fails. */
export async function capacity(b: Bench, opts: { steps: number[]; rampSeconds: number; holdSeconds: number }): Promise<CapacityFigures> {
  await b.redis.flushall();
  const idleHeap = (await b.app.ask<{ heapUsed: number }>('heap')).heapUsed;
  const redisBefore = await usedMemory(b.redis);
  const http = httpClient(b.origin, 256);
  const sim = new Simulator(b, http);
  const steps: CapacityStep[] = [];
  const generatorDelay = monitorEventLoopDelay({ resolution: 1 });
  generatorDelay.enable();
  let current = 0;
  for (const target of opts.steps) {
    sim.add(target - current, opts.rampSeconds * 1000);
    current = target;
    await sleepFor(opts.rampSeconds * 1000);
    sim.window = newWindow(true);
    const cpu0 = await cpuSnapshot(b, 'app');
    await b.app.ask('loopDelay');
    generatorDelay.reset();
    const webhooks0 = sim.webhooks;
    const t0 = performance.now();
    await sleepFor(opts.holdSeconds * 1000);
    const window = sim.window;
    window.open = false;
    const cpu1 = await cpuSnapshot(b, 'app');
    const appDelay = await b.app.ask<LoopDelay>('loopDelay');
    const genDelay = { p50: generatorDelay.percentile(50) / 1e6, p99: generatorDelay.percentile(99) / 1e6, max: generatorDelay.max / 1e6 };
    const seconds = (performance.now() - t0) / 1000;
    const latencyMs = window.latency.summary();
    const held = window.errors === 0 && latencyMs.p99 <= P99_LIMIT_MS;
    // Read after the window: a forced GC pauses the app and must not land in the measured latency.
    const heap = (await b.app.ask<{ heapUsed: number }>('heap')).heapUsed;
    const redisNow = await usedMemory(b.redis);
    steps.push({
      liveCalls: sim.liveCalls,
      webhooksPerSecond: (sim.webhooks - webhooks0) / seconds,
      latencyMs,
      errors: window.errors,
      held,
      cores: coresBetween(cpu0, cpu1),
      heapBytesPerCall: Math.max(0, heap - idleHeap) / sim.liveCalls,
      redisBytesPerCall: (redisNow - redisBefore) / sim.liveCalls,
      p99ByKind: Object.fromEntries(Object.entries(window.byKind).map(([k, v]) => [k, v.summary().p99])) as Record<Kind, number>,
      loopDelayMs: { app: appDelay, generator: genDelay },
    });
    console.log(
      `  capacity: ${sim.liveCalls} live calls, ${Math.round((sim.webhooks - webhooks0) / seconds)} webhooks/s, p99 ${latencyMs.p99.toFixed(1)} ms, ` +
        `${window.errors} errors, app loop delay p99 ${appDelay.p99.toFixed(1)} ms, generator ${genDelay.p99.toFixed(1)} ms${held ? '' : ' — not held'}`,
    );
    if (!held) break;
  }
  generatorDelay.disable();
  await sim.stop();
  http.close();
  const best = steps.filter((s) => s.held).at(-1);
  return { steps, maxLiveCalls: best?.liveCalls ?? 0, heapBytesPerCall: best?.heapBytesPerCall ?? NaN };
}
