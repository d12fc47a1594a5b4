import { readdirSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createStore } from '../src/store/client.js';
import { headerOf } from '../src/store/lua.js';
// Every capability with scripts, so each wrapper is declared before the store defines them.
import '../src/compose.js';

const DIR = new URL('../src/store/scripts/', import.meta.url);
const files = readdirSync(DIR).filter((f) => f.endsWith('.lua'));
const read = (f: string) => readFileSync(new URL(f, DIR), 'utf8');
/** Shared pieces are included by others; they declare no KEYS of their own. */
const isShared = (lua: string) => !/^--\[\[[\s\S]*?KEYS\[1\]/.test(lua);

describe('store scripts Redis Cluster can trust (DESIGN B2; STYLE: BullMQ commands)', () => {
  it('when the scripts folder is read, then it holds .lua files', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('when %s is read, then it opens with a header naming its KEYS, ARGV and output', (f) => {
    const lua = read(f);
    expect(lua.startsWith('--[[')).toBe(true);
    if (isShared(lua)) return;
    expect(headerOf(lua).keys).toBeGreaterThan(0);
    expect(lua).toMatch(/^\s*Output:/m);
  });

  it.each(files)('when %s is read, then no key is built from ARGV (every key a script touches comes in KEYS)', (f) => {
    const code = read(f).replace(/^--\[\[[\s\S]*?\]\]/, '').replace(/--.*$/gm, '');
    // A key built by concatenation, or a command whose key is an argument.
    expect(code).not.toMatch(/ARGV\[\d+\]\s*\.\./);
    expect(code).not.toMatch(/\.\.\s*ARGV\[\d+\]/);
    expect(code).not.toMatch(/redis\.call\(\s*'\w+'\s*,\s*ARGV/);
  });

  it('when the source is read, then no TypeScript module holds Lua or defines a command: every script is a file the one loader defines', () => {
    const root = fileURLToPath(new URL('../src/', import.meta.url));
    const sources = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const offenders = sources.filter((f) => {
      const text = readFileSync(`${root}${f}`, 'utf8');
      const loader = relative(root, fileURLToPath(new URL('../src/store/lua.ts', import.meta.url)));
      return /redis\.call\(|\.eval(sha)?\(|\bluaScript\(/.test(text) || (f !== loader && /defineCommand\(/.test(text));
    });
    expect(offenders).toEqual([]);
  });

  it('when a store is made, then every declared script loads and agrees with its header', async () => {
    const store = await createStore({ kind: 'embedded' });
    await store.close();
  });
});
