/**
 * `npm run bench` — what callers feel and what a bank pays for, in one run on loopback:
 * the app in a child process with a real redis-server and a Twilio REST stand-in, load from this
 * process. Prints one table; a full run writes bench/results.json and refreshes BENCHMARKS.md.
 *
 *   --quick            fewer samples (under a minute), for CI smoke; writes bench/.tmp/results.quick.json
 *   --profile          the app runs with --cpu-prof; prints where its CPU went (figures are perturbed, not saved)
 *   --no-autopipelining  experiment: the app's ioredis auto-pipelining switched off after the warm-up (not saved)
 *   --log-level=<lvl>  the app's LOG_LEVEL (default info, as in production; its lines go to /dev/null)
 *   --api-rate         only the provider-API poll rate (800/s from one client for 5 s); writes bench/.tmp/results.api-rate.json
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startBench } from './lib/context.js';
import { summarizeProfile } from './profile-summary.js';
import { apiRateRows, rows, type Measured } from './report/figures.js';
import { loadAverage, machineInfo, printTable, refreshBenchmarksMd, writeResults, type RunInfo } from './report/write.js';
import { apiPollRate } from './scenarios/api-rate.js';
import { capacity } from './scenarios/capacity.js';
import { confirmToRedirect } from './scenarios/confirm.js';
import { unitCosts } from './scenarios/costs.js';
import { redisFootprint } from './scenarios/footprint.js';
import { forgedSignatures } from './scenarios/forged.js';
import { slowloris } from './scenarios/slowloris.js';
import { auditPath } from './scenarios/audit-path.js';
import { baselines, hotWebhookChain } from './scenarios/webhooks.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const profile = argv.includes('--profile');
const noAutopipelining = argv.includes('--no-autopipelining');
const logLevel = argv.find((a) => a.startsWith('--log-level='))?.split('=')[1] ?? 'info';
const apiRateOnly = argv.includes('--api-rate');
/** 80 % of the default API_RATE_LIMIT_PER_CLIENT, across calls each polled at 2/s (a 2 s poll interval). */
const API_RATE = { perSecond: 800, seconds: 5, calls: 400 };

const SIZES = quick
  ? {
      warmCalls: 500, idleCalls: 200, loadCalls: 2000, baselineSeconds: 2, forgedHttp: 2000, forgedIterations: 20_000, footprintCalls: 200,
      confirm: [{ inFlight: 1, samples: 100 }, { inFlight: 10, samples: 300 }, { inFlight: 50, samples: 500 }],
      capacity: { steps: [1000, 2500, 4000], rampSeconds: 2, holdSeconds: 4 },
      // Past the 10 s headers timeout even in a quick run: the server cutting slow sockets is part of it.
      slowloris: { connections: 200, samples: 300, minSeconds: 13 },
      auditCalls: 500,
    }
  : {
      warmCalls: 3000, idleCalls: 2000, loadCalls: 20_000, baselineSeconds: 10, forgedHttp: 10_000, forgedIterations: 200_000, footprintCalls: 2000,
      confirm: [{ inFlight: 1, samples: 1000 }, { inFlight: 10, samples: 2000 }, { inFlight: 50, samples: 3000 }],
      capacity: { steps: [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000, 12_000, 14_000, 17_000, 20_000], rampSeconds: 5, holdSeconds: 15 },
      slowloris: { connections: 200, samples: 1000, minSeconds: 15 },
      auditCalls: 3000,
    };
const CONNECTIONS = 16;
const MEAN_THINK_SECONDS = 5;

async function main(): Promise<void> {
  const started = performance.now();
  const startedAt = Date.now();
  const loadAtStart = loadAverage();
  if (loadAtStart > 0.5) console.log(`note: load average is ${loadAtStart.toFixed(2)}: something else is busy, figures will be pessimistic.`);
  mkdirSync('bench/.tmp/profiles', { recursive: true });
  const step = (what: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${what}`);

  const b = await startBench({ quick, profile, logLevel });
  if (apiRateOnly) {
    try {
      step('provider API poll rate');
      const apiRate = await apiPollRate(b, API_RATE);
      printTable(apiRateRows(apiRate));
      writeFileSync('bench/.tmp/results.api-rate.json', JSON.stringify({ date: new Date().toISOString(), node: process.version, machine: machineInfo(), apiRate }, null, 2) + '\n');
      console.log('\nwrote bench/.tmp/results.api-rate.json');
    } finally {
      await b.close();
    }
    return;
  }
  let measured: Measured;
  try {
    step('warm-up');
    await hotWebhookChain(b, SIZES.warmCalls, CONNECTIONS);
    if (noAutopipelining) await b.app.ask('noAutopipelining');
    step('hot webhooks, one at a time');
    const idle = await hotWebhookChain(b, SIZES.idleCalls, 1);
    step(`hot webhooks, ${CONNECTIONS} connections`);
    const loaded = await hotWebhookChain(b, SIZES.loadCalls, CONNECTIONS);
    step('baselines');
    const base = await baselines(b, SIZES.baselineSeconds, CONNECTIONS);
    step('forged signatures');
    const forged = await forgedSignatures(b, SIZES.forgedHttp, SIZES.forgedIterations);
    step('unit costs');
    const costs = await unitCosts(b, quick ? 0.1 : 1);
    step('Redis footprint');
    const footprint = await redisFootprint(b, SIZES.footprintCalls);
    step('confirmation → redirect');
    const confirm = await confirmToRedirect(b, SIZES.confirm, idle.wait.latencyMs.p50);
    step('provider API poll rate');
    const apiRate = await apiPollRate(b, API_RATE);
    step('slowloris: 200 slow connections');
    const slow = await slowloris(b, SIZES.slowloris);
    step('audit path: backlog drain, lag under load');
    const audit = await auditPath(b, SIZES.auditCalls, CONNECTIONS);
    step('capacity ramp');
    const cap = await capacity(b, SIZES.capacity);
    measured = {
      idle, loaded, baselines: base, forged, footprint, confirm, capacity: cap, costs, apiRate, slowloris: slow, audit,
      meanThinkSeconds: MEAN_THINK_SECONDS,
    };
  } finally {
    await b.close();
  }

  const table = rows(measured);
  printTable(table);
  const cores = [...Object.values(measured.loaded).map((p) => p.cores), measured.baselines.bare.cores, measured.baselines.sample.cores, ...measured.capacity.steps.map((s) => s.cores)];
  const info: RunInfo = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    command: ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' '),
    node: process.version,
    machine: machineInfo(),
    seconds: (performance.now() - started) / 1000,
    loadAverageAtStart: loadAtStart,
    otherCoresMax: Math.max(...cores.map((c) => c.other)),
  };
  if (info.otherCoresMax > 0.2) console.log(`note: other processes used up to ${info.otherCoresMax.toFixed(2)} cores during the run.`);

  if (profile) printProfile(startedAt);
  const variant = profile ? 'profile' : noAutopipelining ? 'no-autopipelining' : quick ? 'quick' : undefined;
  const out = variant ? `bench/.tmp/results.${variant}.json` : 'bench/results.json';
  writeResults(out, info, table, measured);
  if (!variant) refreshBenchmarksMd('BENCHMARKS.md', info, table, measured);
  console.log(`\nwrote ${out}${variant ? '' : ' and BENCHMARKS.md'} in ${info.seconds.toFixed(0)} s`);
}

/** The app's main-thread profile of this run: the biggest one written since it started (tsx adds a small loader-thread profile). */
function printProfile(sinceMs: number): void {
  const dir = 'bench/.tmp/profiles';
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ path: join(dir, f), stat: statSync(join(dir, f)) }))
    .filter((f) => f.stat.mtimeMs >= sinceMs)
    .sort((a, b) => b.stat.size - a.stat.size);
  const main = files[0];
  if (!main) return;
  const s = summarizeProfile(JSON.parse(readFileSync(main.path, 'utf8')), 20);
  console.log(`\napp CPU profile (${main.path}): busy ${s.busyMs.toFixed(0)} ms, self time by module`);
  for (const m of s.modules) console.log(`  ${(m.share * 100).toFixed(1).padStart(5)} %  ${m.name}`);
  console.log('hottest functions (self time)');
  for (const f of s.functions) console.log(`  ${(f.share * 100).toFixed(1).padStart(5)} %  ${f.name}`);
}

main().catch((err: unknown) => {
  console.error('bench failed:', err);
  process.exit(1);
});
