import { readFileSync } from 'node:fs';
import type { RedisClient } from './client.js';

/**
 * The one loader of the store's Lua scripts (STYLE: BullMQ's src/commands/*.lua). Each script is a
 * file in src/store/scripts/ named for what it does, opening with a header that lists its KEYS,
 * ARGV and reply; `--- @include "name"` pulls in a shared piece. Every key a script touches comes
 * in KEYS (Redis Cluster routes by them), never built from ARGV.
 *
 * The files are read relative to this module, so the same code finds them under src/ (`npm start`,
 * tsx) and under dist/ (`node dist/main.js`: `npm run build` copies them, scripts/copy-lua.ts).
 */
const SCRIPT_DIR = new URL('./scripts/', import.meta.url);

export type ScriptArg = string | number;

export interface ScriptSpec<K extends string, A extends string, R> {
  /** The file in src/store/scripts/, without `.lua`. */
  file: string;
  /** KEYS in order, by name: the wrapper takes them as an object, so a call cannot swap two. */
  keys: readonly K[];
  /** ARGV in order, by name. */
  args: readonly A[];
  /** Turns the raw reply into the script's typed answer. */
  decode: (reply: unknown) => R;
}

export interface StoreScript<K extends string, A extends string, R> {
  (redis: RedisClient, keys: Readonly<Record<K, string>>, args: Readonly<Record<A, ScriptArg>>): Promise<R>;
  readonly command: string;
  readonly spec: ScriptSpec<K, A, R>;
}

/** Every script declared with `defineScript`: static definitions (like the .lua files), defined on each client. */
const REGISTRY = new Map<string, { spec: ScriptSpec<string, string, unknown>; lua?: string }>();

const commandName = (file: string) => `vl_${file.replace(/[^A-Za-z0-9]/g, '_')}`;

/** The script's source with its includes expanded (each shared piece once). */
function source(file: string, seen = new Set<string>()): string {
  if (seen.has(file)) return '';
  seen.add(file);
  let text: string;
  try {
    text = readFileSync(new URL(`${file}.lua`, SCRIPT_DIR), 'utf8');
  } catch (cause) {
    throw new Error(`store script ${file}.lua not found next to the store module (run \`npm run build\`, which copies the .lua files)`, { cause });
  }
  return text.replace(/^--- @include "([\w-]+)"\s*$/gm, (_line, name: string) => source(name, seen));
}

/** Counts the `KEYS[n]` and `ARGV[n]` lines of a script's header (its opening comment block). */
export function headerOf(lua: string): { keys: number; args: number } {
  const header = /^--\[\[([\s\S]*?)\]\]/.exec(lua)?.[1] ?? '';
  const highest = (name: string) => Math.max(0, ...[...header.matchAll(new RegExp(`^\\s*${name}\\[(\\d+)\\]`, 'gm'))].map((m) => Number(m[1])));
  return { keys: highest('KEYS'), args: highest('ARGV') };
}

function load(command: string): string {
  const entry = REGISTRY.get(command);
  if (!entry) throw new Error(`unknown store script ${command}`);
  if (entry.lua !== undefined) return entry.lua;
  const lua = source(entry.spec.file);
  // The header is the script's documentation and its wrapper's contract: they must agree.
  const header = headerOf(lua);
  if (header.keys !== entry.spec.keys.length || header.args !== entry.spec.args.length) {
    throw new Error(
      `store script ${entry.spec.file}.lua: its header lists ${header.keys} KEYS and ${header.args} ARGV, its wrapper ${entry.spec.keys.length} and ${entry.spec.args.length}`,
    );
  }
  entry.lua = lua;
  return lua;
}

/** A typed wrapper around one .lua file: named keys and arguments in, a decoded reply out. */
export function defineScript<const K extends string, const A extends string, R>(spec: ScriptSpec<K, A, R>): StoreScript<K, A, R> {
  const command = commandName(spec.file);
  if (REGISTRY.has(command)) throw new Error(`store script ${spec.file} is defined twice`);
  REGISTRY.set(command, { spec: spec as unknown as ScriptSpec<string, string, unknown> });
  const run = async (redis: RedisClient, keys: Readonly<Record<K, string>>, args: Readonly<Record<A, ScriptArg>>): Promise<R> => {
    const client = redis as unknown as Record<string, ((...a: ScriptArg[]) => Promise<unknown>) | undefined>;
    if (typeof client[command] !== 'function') defineOne(redis, command);
    const fn = client[command] as (...a: ScriptArg[]) => Promise<unknown>;
    const reply = await fn.call(redis, ...spec.keys.map((k) => keys[k]), ...spec.args.map((a) => args[a]));
    return spec.decode(reply);
  };
  return Object.assign(run, { command, spec });
}

function defineOne(redis: RedisClient, command: string): void {
  const entry = REGISTRY.get(command);
  if (!entry) return;
  // defineCommand uses EVALSHA and falls back to EVAL, on Redis, Cluster and the embedded store alike.
  redis.defineCommand(command, { numberOfKeys: entry.spec.keys.length, lua: load(command) });
}

/**
 * Defines every declared script on a client before its first command. With auto-pipelining a
 * script defined lazily while a pipeline is pending is missing from it (ioredis then fails the
 * whole batch), so the store defines them all up front; a missing or inconsistent .lua file stops
 * start-up here. The lazy path in the wrapper stays for modules imported after the store was made.
 */
export function defineAllScripts(redis: RedisClient): void {
  const client = redis as unknown as Record<string, unknown>;
  for (const command of REGISTRY.keys()) if (typeof client[command] !== 'function') defineOne(redis, command);
}

/** Reply helpers for decoders: Redis replies are loosely typed, the wrappers are not. */
export const reply = {
  array(raw: unknown, what: string): unknown[] {
    if (!Array.isArray(raw)) throw new Error(`store script ${what}: expected an array reply`);
    return raw;
  },
  string(raw: unknown): string {
    if (typeof raw === 'string') return raw;
    if (typeof raw === 'number') return String(raw);
    if (Buffer.isBuffer(raw)) return raw.toString('utf8');
    return '';
  },
  number(raw: unknown): number {
    const n = typeof raw === 'number' ? raw : Number(reply.string(raw));
    return Number.isFinite(n) ? n : 0;
  },
  /** A flat HGETALL reply (`[field, value, …]`) as an object. */
  hash(raw: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    if (!Array.isArray(raw)) return out;
    for (let i = 0; i + 1 < raw.length; i += 2) out[reply.string(raw[i])] = reply.string(raw[i + 1]);
    return out;
  },
  /** One of a closed set of words, or a thrown error naming the script (a script and its wrapper disagree). */
  oneOf<const W extends string>(raw: unknown, words: readonly W[], what: string): W {
    const s = reply.string(raw);
    if ((words as readonly string[]).includes(s)) return s as W;
    throw new Error(`store script ${what}: unexpected reply "${s.slice(0, 32)}"`);
  },
};
