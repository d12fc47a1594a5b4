import type { ApiRateFigures } from '../scenarios/api-rate.js';
import type { AuditPathFigures } from '../scenarios/audit-path.js';
import type { CapacityFigures } from '../scenarios/capacity.js';
import type { ConfirmFigures } from '../scenarios/confirm.js';
import type { UnitCosts } from '../scenarios/costs.js';
import type { FootprintFigures } from '../scenarios/footprint.js';
import type { ForgedFigures } from '../scenarios/forged.js';
import type { SlowlorisFigures } from '../scenarios/slowloris.js';
import { HOT, type BaselineFigures, type Hot, type PhaseFigures } from '../scenarios/webhooks.js';
import { round } from '../lib/stats.js';

/** One line of the table: a figure, its value, the issue's target if it has one, and whether it is met. */
export interface Row {
  id: string;
  figure: string;
  value: number;
  unit: string;
  /** Shown instead of `value` when a row carries several numbers (p50 / p99 / p99.9). */
  shown?: string;
  target?: { op: '>=' | '<=' | '='; value: number };
  met?: boolean;
}

export interface Measured {
  idle: Record<Hot, PhaseFigures>;
  loaded: Record<Hot, PhaseFigures>;
  baselines: BaselineFigures;
  forged: ForgedFigures;
  footprint: FootprintFigures;
  confirm: ConfirmFigures;
  capacity: CapacityFigures;
  costs: UnitCosts;
  apiRate: ApiRateFigures;
  slowloris: SlowlorisFigures;
  audit: AuditPathFigures;
  /** Seconds between webhooks of one live call, on average (3–7 s uniform). */
  meanThinkSeconds: number;
}

const NAMES: Record<Hot, string> = { incoming: 'incoming call (/twilio/voice)', menu: 'menu digit 1 (opens verification)', wait: 'wait-loop turn (press 1)' };

const ms3 = (s: { p50: number; p99: number; p999: number }) => `${round(s.p50)} / ${round(s.p99)} / ${round(s.p999)} ms`;

function judge(row: Row): Row {
  if (!row.target || !Number.isFinite(row.value)) return row.target ? { ...row, met: false } : row;
  const { op, value } = row.target;
  const met = op === '>=' ? row.value >= value : op === '<=' ? row.value <= value : row.value === value;
  return { ...row, met };
}

export function rows(m: Measured): Row[] {
  const out: Row[] = [];
  const add = (r: Row) => out.push(judge(r));
  const bare = m.baselines.bare.perSecond;
  const sample = m.baselines.sample.perSecond;
  add({ id: 'baseline.bare.rps', figure: 'baseline: bare express route, fixed TwiML', value: bare, unit: 'req/s' });
  add({ id: 'baseline.sample.rps', figure: 'baseline: Twilio sample-app pattern (VoiceResponse)', value: sample, unit: 'req/s' });
  for (const hot of HOT) {
    const l = m.loaded[hot];
    const i = m.idle[hot];
    const name = NAMES[hot];
    add({ id: `webhook.${hot}.rps`, figure: `${name}: throughput (16 connections)`, value: l.perSecond, unit: 'req/s' });
    add({ id: `webhook.${hot}.loaded.p99`, figure: `${name}: latency p50 / p99 / p99.9 under that load`, value: l.latencyMs.p99, unit: 'ms', shown: ms3(l.latencyMs) });
    add({ id: `webhook.${hot}.idle.p99`, figure: `${name}: latency p50 / p99 / p99.9, one at a time`, value: i.latencyMs.p99, unit: 'ms', shown: ms3(i.latencyMs) });
    add({ id: `webhook.${hot}.vsBare`, figure: `${name}: throughput vs bare express`, value: (100 * l.perSecond) / bare, unit: '%', target: { op: '>=', value: 50 } });
    add({ id: `webhook.${hot}.vsSample`, figure: `${name}: throughput vs sample-app pattern`, value: (100 * l.perSecond) / sample, unit: '%', target: { op: '>=', value: 100 } });
    add({
      id: `webhook.${hot}.redisRoundTrips`,
      figure: `${name}: Redis round trips (commands sent; executed incl. Lua)`,
      value: l.roundTrips,
      unit: '/webhook',
      shown: `${round(l.roundTrips)} (${round(l.commands)}; ${round(l.serverCommands)})`,
    });
  }

  for (const run of m.confirm.runs) {
    const label = run.inFlight === 1 ? 'sequential' : `${run.inFlight} in flight`;
    const errs = run.errors > 0 ? ` (${run.errors} failed)` : '';
    if (run.inFlight === 1) {
      add({ id: 'confirm.sequential.p50', figure: `confirm → redirect p50, ${label}${errs}`, value: run.toRedirectMs.p50, unit: 'ms', target: { op: '<=', value: 1.5 } });
    }
    add({
      id: `confirm.${run.inFlight}.p99`,
      figure: `confirm → redirect p99, ${label}${errs}`,
      value: run.toRedirectMs.p99,
      unit: 'ms',
      shown: `${round(run.toRedirectMs.p99)} ms (p50 ${round(run.toRedirectMs.p50)}, p99.9 ${round(run.toRedirectMs.p999)})`,
      ...(run.inFlight === 1 ? { target: { op: '<=' as const, value: 10 } } : run.inFlight === 10 ? { target: { op: '<=' as const, value: 20 } } : {}),
    });
  }
  const seq = m.confirm.runs.find((r) => r.inFlight === 1);
  if (seq) add({ id: 'confirm.redisRoundTrips', figure: `confirmation: Redis round trips (commands sent)${seq.errors > 0 ? ', failing confirmations' : ''}`, value: seq.roundTrips, unit: '/confirmation', shown: `${round(seq.roundTrips)} (${round(seq.commands)})` });
  const push = seq?.toRedirectMs;
  add({ id: 'confirm.poll.mean', figure: 'seeds\' 5 s poll: time-to-route mean (p50 / p99)', value: m.confirm.poll.mean, unit: 'ms', shown: `${round(m.confirm.poll.mean)} ms (${round(m.confirm.poll.p50)} / ${round(m.confirm.poll.p99)})` });
  if (push) add({ id: 'confirm.poll.ratio', figure: 'poll time-to-route ÷ push confirm → redirect (means)', value: m.confirm.poll.mean / push.mean, unit: '×' });

  const cap = m.capacity;
  // When every step held, the ramp ended before the app did: the figure is a floor.
  const floor = cap.steps.length > 0 && cap.steps.every((s) => s.held);
  add({
    id: 'capacity.liveCallsPerCore',
    figure: 'live calls held by one app process (one core), p99 ≤ 50 ms, no errors',
    value: cap.maxLiveCalls,
    unit: 'calls',
    ...(floor ? { shown: `≥ ${cap.maxLiveCalls.toLocaleString('en-US')} calls (the ramp's last step)` } : {}),
    target: { op: '>=', value: 10_000 },
  });
  add({ id: 'capacity.heapPerCall', figure: 'app heap per live call (after GC, at the largest count held)', value: cap.heapBytesPerCall, unit: 'B', target: { op: '<=', value: 1024 } });
  add({ id: 'footprint.redisPerLiveCall', figure: `Redis per live call (MEMORY USAGE, after ${m.footprint.webhooksPerCall} webhooks)`, value: m.footprint.bytesPerLiveCall, unit: 'B', target: { op: '<=', value: 2048 } });
  // A call keeps one answer slot however long it lasts; what a further turn adds is its audit entry.
  add({ id: 'footprint.redisPerFurtherTurn', figure: 'Redis added per further wait-loop turn (its audit entry; the answer slot is replaced)', value: m.footprint.bytesPerFurtherTurn, unit: 'B' });

  const f = m.forged;
  add({ id: 'forged.refuse.p50', figure: 'forged signature refused (middleware, p50; p99)', value: f.refuseUs.p50, unit: 'µs', shown: `${round(f.refuseUs.p50)} µs (p99 ${round(f.refuseUs.p99)})`, target: { op: '<=', value: 30 } });
  add({ id: 'forged.accept.p50', figure: 'genuine signature checked (middleware, p50)', value: f.acceptUs.p50, unit: 'µs' });
  add({ id: 'forged.http.redisCommands', figure: `forged over HTTP (${f.http.requests} requests): Redis commands executed`, value: f.redisCommands + f.appCommands, unit: '', target: { op: '=', value: 0 } });
  add({ id: 'forged.http.redirects', figure: 'forged over HTTP: Twilio REST calls made', value: f.redirects, unit: '', target: { op: '=', value: 0 } });
  add({ id: 'forged.http.p50', figure: 'forged over HTTP: 403 latency p50 / p99 / p99.9 (16 connections)', value: f.http.latencyMs.p50, unit: 'ms', shown: ms3(f.http.latencyMs) });
  out.push(...apiRateRows(m.apiRate));

  const sl = m.slowloris;
  add({
    id: 'slowloris.ratio',
    figure: `incoming call's turn during a slowloris of ${sl.connections} connections ÷ quiet (p50s)`,
    value: sl.ratio,
    unit: '×',
    shown: `${round(sl.ratio)}× (${round(sl.underMs.p50)} vs ${round(sl.quietMs.p50)} ms; ${sl.cutByServer} slow sockets cut by the 10 s headers timeout in ${round(sl.seconds)} s)`,
    target: { op: '<=', value: 2 },
  });

  const a = m.audit;
  add({ id: 'audit.eventsPerCall', figure: 'audit events per call (dial, press 1, one wait-loop turn)', value: a.eventsPerCall, unit: '' });
  add({ id: 'audit.drainedPerSecond', figure: `audit: a backlog of ${a.backlog} events moved into PostgreSQL by one drainer`, value: a.drainedPerSecond, unit: 'events/s' });
  add({ id: 'audit.lagMax', figure: `audit: outbox lag at most, under full webhook load (${a.lagSamples} samples)`, value: a.lagMaxSeconds, unit: 's', target: { op: '<=', value: 2 } });
  return out;
}

/** One API client polling many calls at 80 % of the default API_RATE_LIMIT_PER_CLIENT: nothing may be refused. */
export function apiRateRows(a: ApiRateFigures): Row[] {
  const what = `one API client, ${a.calls} calls, ${a.targetPerSecond} polls/s asked for ${round(a.http.seconds)} s`;
  return [
    judge({ id: 'api.rate.refused', figure: `${what}: answered 429`, value: a.refused, unit: '', target: { op: '=', value: 0 } }),
    judge({ id: 'api.rate.perSecond', figure: `${what}: answered 200 per second`, value: a.http.perSecond, unit: '/s' }),
    judge({ id: 'api.rate.errors', figure: `${what}: other errors (not 200)`, value: a.http.errors - a.refused, unit: '' }),
    judge({ id: 'api.rate.p50', figure: `${what}: latency p50 / p99 / p99.9`, value: a.http.latencyMs.p50, unit: 'ms', shown: ms3(a.http.latencyMs) }),
  ];
}

export function formatValue(r: Row): string {
  if (r.shown) return r.shown;
  const v = round(r.value);
  return r.unit === '%' || r.unit === '×' ? `${v}${r.unit === '%' ? ' %' : ' ×'}` : `${v.toLocaleString('en-US')}${r.unit ? ` ${r.unit}` : ''}`;
}

export function formatTarget(r: Row): string {
  if (!r.target) return '';
  const op = r.target.op === '>=' ? '≥' : r.target.op === '<=' ? '≤' : '=';
  return `${op} ${r.target.value.toLocaleString('en-US')}${r.unit && r.unit !== '×' ? ` ${r.unit}` : ''}`;
}

export const metMark = (r: Row) => (r.met === undefined ? '' : r.met ? 'yes' : 'NO');
