import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, release, type } from 'node:os';
import { round } from '../lib/stats.js';
import { HOT } from '../scenarios/webhooks.js';
import { formatTarget, formatValue, metMark, type Measured, type Row } from './figures.js';

export interface RunInfo {
  date: string;
  mode: 'full' | 'quick';
  command: string;
  node: string;
  machine: string;
  seconds: number;
  /** 1-minute load average when the run started: above ~0.5 something else was busy. */
  loadAverageAtStart: number;
  /** The most cores other processes used during any measured phase. */
  otherCoresMax: number;
}

export function machineInfo(): string {
  const c = cpus();
  return `${c[0]?.model.trim() ?? 'unknown CPU'}, ${c.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, ${type()} ${release()}`;
}

export const loadAverage = () => loadavg()[0] ?? 0;

export function printTable(rows: Row[]): void {
  const cells = rows.map((r) => [r.figure, formatValue(r), formatTarget(r), metMark(r)]);
  const head = ['figure', 'value', 'target', 'met?'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i] ?? 0)).join('  ');
  console.log('\n' + line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
  const missed = rows.filter((r) => r.met === false).length;
  const withTarget = rows.filter((r) => r.met !== undefined).length;
  console.log(`\n${withTarget - missed} of ${withTarget} targets met.`);
}

/** JSON with numbers rounded for reading; NaN (no sample) becomes null. */
export function writeResults(path: string, info: RunInfo, rows: Row[], measured: Measured): void {
  const replacer = (_k: string, v: unknown) => (typeof v === 'number' ? (Number.isFinite(v) ? round(v) : null) : v);
  const figures = rows.map(({ id, figure, value, unit, target, met }) => ({ id, figure, value, unit, ...(target ? { target } : {}), ...(met !== undefined ? { met } : {}) }));
  writeFileSync(path, JSON.stringify({ run: info, figures, measured }, replacer, 2) + '\n');
}

const START = '<!-- bench:latest-run:start (written by `npm run bench`; edit outside these markers) -->';
const END = '<!-- bench:latest-run:end -->';

/** Replaces the generated section of BENCHMARKS.md; the hand-written analysis around it stays. */
export function refreshBenchmarksMd(path: string, info: RunInfo, rows: Row[], m: Measured): void {
  let doc: string;
  try {
    doc = readFileSync(path, 'utf8');
  } catch {
    doc = `# Benchmarks\n\n${START}\n${END}\n`;
  }
  const s = doc.indexOf(START);
  const e = doc.indexOf(END);
  if (s < 0 || e < s) throw new Error(`${path}: the generated-section markers are missing`);
  writeFileSync(path, doc.slice(0, s) + START + '\n' + latestRun(info, rows, m) + END + doc.slice(e + END.length));
}

function latestRun(info: RunInfo, rows: Row[], m: Measured): string {
  const md = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  const out: string[] = [];
  out.push(`Run ${info.date} · \`${info.command}\` · ${round(info.seconds)} s · Node ${info.node} · ${info.machine}`);
  out.push(`Load average at start ${round(info.loadAverageAtStart)}; other processes used at most ${round(info.otherCoresMax)} cores during a measured phase.`);
  out.push('');
  out.push(md(['figure', 'value', 'target', 'met?']), md(['---', '---', '---', '---']));
  for (const r of rows) out.push(md([r.figure, formatValue(r), formatTarget(r), metMark(r)]));
  out.push('');
  out.push('Where the cores went under load (16 connections): app CPU per request, and cores used by the app, the load generator, redis-server and anything else:');
  out.push('');
  out.push(md(['phase', 'req/s', 'app CPU µs/req', 'app', 'generator', 'redis', 'other']), md(['---', '---', '---', '---', '---', '---', '---']));
  const coreRow = (name: string, perSecond: number, c: { server: number; generator: number; redis: number; other: number }) =>
    md([name, String(round(perSecond)), String(round((c.server * 1e6) / perSecond)), String(round(c.server)), String(round(c.generator)), String(round(c.redis)), String(round(c.other))]);
  for (const hot of HOT) out.push(coreRow(hot, m.loaded[hot].perSecond, m.loaded[hot].cores));
  for (const k of ['bare', 'sample'] as const) out.push(coreRow(`baseline ${k}`, m.baselines[k].perSecond, m.baselines[k].cores));
  out.push('');
  out.push('Capacity ramp:');
  out.push('');
  out.push(md(['live calls', 'webhooks/s', 'p50 ms', 'p99 ms', 'errors', 'app cores', 'app loop delay p99 ms', 'held']), md(['---', '---', '---', '---', '---', '---', '---', '---']));
  for (const s of m.capacity.steps) {
    out.push(
      md([
        String(s.liveCalls),
        String(round(s.webhooksPerSecond)),
        String(round(s.latencyMs.p50)),
        String(round(s.latencyMs.p99)),
        String(s.errors),
        String(round(s.cores.server)),
        String(round(s.loopDelayMs.app.p99)),
        s.held ? 'yes' : 'no',
      ]),
    );
  }
  out.push('');
  out.push('Unit costs, each measured alone in the load generator\'s process (µs per operation):');
  out.push('');
  out.push(md(['operation', 'µs']), md(['---', '---']));
  for (const [op, us] of Object.entries(m.costs)) out.push(md([op, String(round(us))]));
  out.push('');
  out.push(`Redis bytes of one live call by key (${m.footprint.calls} calls, ${m.footprint.webhooksPerCall} webhooks each): ` +
    Object.entries(m.footprint.byKind).map(([k, v]) => `${k} ${round(v)}`).join(', ') +
    `; one stored answer ${round(m.footprint.bytesPerDedupAnswer)} B; left per ended call (excluding answers) ${round(m.footprint.bytesPerEndedCall)} B.`);
  out.push('');
  return out.join('\n') + '\n';
}
