/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --profile`, or `node --cpu-prof`): self time by
 * module (our files, each npm package, Node internals, GC) and the hottest functions.
 *   node --import tsx bench/profile-summary.ts bench/.tmp/profiles/<file>.cpuprofile [top]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function moduleOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return '(gc)';
  if (fn === '(idle)' || fn === '(program)' || fn === '(root)') return fn;
  if (!url) return '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  const ours = /\/(src|bench)\/(.+)$/.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  if (url.startsWith('node:')) return url;
  return url;
}

export function summarizeProfile(profile: Profile, top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let total = 0;
  let idle = 0;
  const modules = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const mod = moduleOf(url, functionName);
    total += us;
    if (mod === '(idle)') {
      idle += us;
      continue;
    }
    modules.set(mod, (modules.get(mod) ?? 0) + us);
    const fname = `${functionName || '(anonymous)'} ${mod}:${lineNumber + 1}`;
    functions.set(fname, (functions.get(fname) ?? 0) + us);
  }
  const busy = total - idle;
  const rank = (m: Map<string, number>) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, share: us / busy }));
  return { busyMs: busy / 1000, idleMs: idle / 1000, modules: rank(modules), functions: rank(functions) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: bench/profile-summary.ts <file.cpuprofile> [top]');
  const s = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(process.argv[3] ?? 25));
  console.log(`busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms`);
  console.log('\nself time by module');
  for (const m of s.modules) console.log(`  ${(m.share * 100).toFixed(1).padStart(5)} %  ${m.name}`);
  console.log('\nhottest functions (self time)');
  for (const f of s.functions) console.log(`  ${(f.share * 100).toFixed(1).padStart(5)} %  ${f.name}`);
}
