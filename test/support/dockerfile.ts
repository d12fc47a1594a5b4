import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface Step {
  instruction: string;
  /** The rest of the line, continuations joined. */
  args: string;
}
export interface Stage {
  name: string;
  from: string;
  steps: Step[];
}

/** The Dockerfile's stages in order, `ARG` defaults substituted into `FROM`. */
export function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [instruction = '', ...rest] = line.split(/\s+/);
    const argsText = rest.join(' ');
    const upper = instruction.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [k = '', v = ''] = argsText.split('=');
      args[k] = v;
    } else if (upper === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(argsText);
      if (!m?.[1]) throw new Error(`FROM without an image: ${line}`);
      const from = m[1].replace(/\$\{(\w+)\}/g, (_, k: string) => args[k] ?? '');
      stages.push({ name: m[2] ?? String(stages.length), from, steps: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${upper} before any FROM`);
      stage.steps.push({ instruction: upper, args: argsText });
    }
  }
  return stages;
}

/**
 * Lays out what a stage's image holds under its WORKDIR (/app), by doing what its steps say on
 * local disk: COPY from the build context (minus .dockerignore) or from another stage, RUN in a
 * shell. Three substitutions, all of them about the npm cache rather than the result: a full
 * `npm ci` of the same lockfile is the worktree's own node_modules (linked, not reinstalled);
 * `npm ci --omit=dev` runs `--offline`, from the cache the first install filled; `npm cache clean`
 * is skipped, since the cache here is the machine's, not a throw-away layer's.
 */
export function assembleStage(stages: readonly Stage[], name: string, root: string, context = process.cwd()): string {
  const byName = new Map(stages.map((s) => [s.name, s]));
  const built = new Map<string, string>();
  const ignored = dockerignore(context);

  const build = (stageName: string): string => {
    const done = built.get(stageName);
    if (done) return done;
    const stage = byName.get(stageName);
    if (!stage) throw new Error(`no stage "${stageName}" in the Dockerfile`);
    const dir = join(root, stage.name);
    rmSync(dir, { recursive: true, force: true });
    if (byName.has(stage.from)) cpSync(build(stage.from), dir, { recursive: true, verbatimSymlinks: true });
    else mkdirSync(dir, { recursive: true });
    for (const step of stage.steps) {
      if (step.instruction === 'WORKDIR' && step.args !== '/app') throw new Error(`only WORKDIR /app is modelled, not ${step.args}`);
      if (step.instruction === 'COPY') copy(step.args, dir);
      if (step.instruction === 'RUN') run(step.args, dir);
    }
    built.set(stageName, dir);
    return dir;
  };

  const copy = (argsText: string, dir: string) => {
    const parts = argsText.split(/\s+/);
    const fromFlag = parts[0]?.startsWith('--from=') ? parts.shift()?.slice('--from='.length) : undefined;
    const dest = parts.pop() ?? '';
    const target = resolve(dir, dest);
    for (const source of parts) {
      if (fromFlag) {
        const base = build(fromFlag);
        cpSync(join(base, source.replace(/^\/app\/?/, '')), target, { recursive: true, verbatimSymlinks: true });
        continue;
      }
      for (const file of expand(context, source)) {
        if (ignored.some((re) => re.test(file))) continue;
        const into = dest.endsWith('/') || parts.length > 1 || source.includes('*') ? join(target, file.split('/').pop() ?? file) : target;
        mkdirSync(dirname(into), { recursive: true });
        cpSync(join(context, file), into, { recursive: true, filter: (src) => !ignored.some((re) => re.test(src.slice(context.length + 1))) });
      }
    }
  };

  const run = (command: string, dir: string) => {
    for (const part of command.split('&&').map((c) => c.trim())) {
      if (/^npm ci\b/.test(part) && !part.includes('--omit=dev')) {
        symlinkSync(join(context, 'node_modules'), join(dir, 'node_modules'));
      } else if (/^npm cache clean\b/.test(part)) {
        continue;
      } else {
        const line = /^npm ci\b/.test(part) ? `${part} --offline` : part;
        execFileSync('sh', ['-c', line], { cwd: dir, stdio: 'pipe', timeout: 240_000 });
      }
    }
  };

  return build(name);
}

/** A COPY source as context-relative paths: itself, or the files a `*` in its last segment matches. */
function expand(context: string, source: string): string[] {
  if (!source.includes('*')) return existsSync(join(context, source)) ? [source] : [];
  const dir = dirname(source);
  const pattern = new RegExp(`^${source.slice(dir.length + 1).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
  return readdirSync(join(context, dir)).filter((f) => pattern.test(f)).map((f) => join(dir, f));
}

/** .dockerignore lines as regexes over context-relative paths (names, `*` globs, a path and what is under it). */
function dockerignore(context: string): RegExp[] {
  const file = join(context, '.dockerignore');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => new RegExp(`^${l.replace(/\/$/, '').replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/.*)?$`));
}

/** Every file under `dir`, relative, `/`-separated (symlinks listed, not followed). */
export function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? listFiles(dir, rel) : [rel];
  });
}
