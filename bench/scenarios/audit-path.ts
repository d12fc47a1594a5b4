import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Bench } from '../lib/context.js';
import { hotWebhookChain } from './webhooks.js';

/**
 * What the audit trail costs beside a call (DESIGN A11, B7): each event is appended to the store's
 * outbox on the request's path (its cost is inside every webhook and confirmation figure), then the
 * drainer moves it into PostgreSQL off the caller's path. Measured here: how many events a call
 * makes, how fast one drainer empties a backlog (what a PostgreSQL outage leaves behind), and how
 * far the trail falls behind while the webhooks run at full load (A11: within 2 s).
 */
export interface AuditPathFigures {
  calls: number;
  /** Events written per call of the hot chain (dial, press 1, one wait-loop turn). */
  eventsPerCall: number;
  /** A backlog of this many events, left while the drainer was paused… */
  backlog: number;
  /** …moved into PostgreSQL at this rate by one drainer once it resumed. */
  drainedPerSecond: number;
  /** The outbox lag gauge (age of the oldest waiting event), sampled every 100 ms under full webhook load. */
  lagMaxSeconds: number;
  lagSamples: number;
}

const metricValue = (text: string, name: string) => Number(new RegExp(`^${name} ([0-9.eE+-]+)$`, 'm').exec(text)?.[1] ?? NaN);

export async function auditPath(b: Bench, calls: number, connections: number): Promise<AuditPathFigures> {
  const db = new pg.Client({ connectionString: b.postgres.url });
  await db.connect();
  const count = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events')).rows[0]?.n ?? 0;
  const gauges = async () => {
    const text = await (await fetch(`${b.origin}/metrics`)).text();
    return { waiting: metricValue(text, 'vaultline_audit_outbox_events'), lag: metricValue(text, 'vaultline_audit_outbox_lag_seconds') };
  };
  try {
    // A backlog: the drainer drains what is there and stops; calls run; it resumes and is timed.
    await b.app.ask('auditPause');
    const before = await count();
    await hotWebhookChain(b, calls, connections);
    const started = performance.now();
    await b.app.ask('auditResume');
    let after = before;
    for (;;) {
      await new Promise((r) => setTimeout(r, 20));
      const [n, g] = await Promise.all([count(), gauges()]);
      if (n === after && g.waiting === 0 && n > before) break;
      after = n;
      if (performance.now() - started > 120_000) throw new Error(`audit path: the backlog did not drain in 120 s (${n - before} events moved)`);
    }
    const drainSeconds = (performance.now() - started) / 1000;
    const backlog = after - before;

    // The lag while the hot webhooks run at full load, the drainer running as in production.
    let lagMax = 0;
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const g = await gauges();
        if (Number.isFinite(g.lag)) lagMax = Math.max(lagMax, g.lag);
        samples++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await hotWebhookChain(b, calls, connections);
    sampling = false;
    await sampler;
    return { calls, eventsPerCall: backlog / calls, backlog, drainedPerSecond: backlog / drainSeconds, lagMaxSeconds: lagMax, lagSamples: samples };
  } finally {
    await db.end();
  }
}
