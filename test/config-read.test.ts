import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../src/config/load.js';

/**
 * Issue 16: a setting that is accepted and ignored misleads the bank that sets it. Every key of the
 * parsed Config is read somewhere outside src/config (the config module itself, and the start-up
 * policy line it builds, src/config/policies.ts, only describe settings).
 */
describe('no setting accepted and ignored', () => {
  /**
   * A static scan, so it needs no run of every code path. A key counts as read when a file under
   * src/ outside src/config:
   *   - reads it off the config: `config.key` (also `deps.config.key`, `config?.key`), or
   *     destructures it from the config (`const { key } = config`); and, for a nested key
   *     `parent.key`,
   *   - reads it as `config.parent.key`, or `config.parent` is read and `key` is read as a property
   *     somewhere (`.key`, or destructured `{ key }`): a sub-object handed whole to its capability
   *     (`createStore(config.store)`) is read there by its own names.
   * Every shape of the union keys (store, banking, statements) is walked by loading one config of
   * each kind.
   */
  it('when every key of the config is looked for in src/ outside src/config, then each one is read somewhere', () => {
    const configs = [
      loadConfig({}),
      loadConfig({ REDIS_URL: 'redis://127.0.0.1:1', BANKING_API_URL: 'https://bank.test', S3_BUCKET: 'b', S3_ENDPOINT: 'http://s3.test', S3_REGION: 'r' }),
      loadConfig({ REDIS_CLUSTER_NODES: 'a:1,b:2', REDIS_PASSWORD: 'p', REDIS_TLS: 'true' }),
      loadConfig({ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'm', REDIS_SENTINEL_PASSWORD: 'p', AUDIT_DATABASE_URL: 'postgres://a@b/c' }),
    ];
    const paths = new Set<string>();
    const walk = (value: unknown, prefix: string[]) => {
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        const path = [...prefix, key];
        paths.add(path.join('.'));
        // Plain sub-objects only: arrays (clients, JWKs) and Buffers are values.
        if (v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v)) walk(v, path);
      }
    };
    for (const c of configs) walk(c satisfies Config, []);
    // A discriminant is read by the capability that switches on it (`store.kind === 'redis'`).
    expect(paths).toContain('store.kind');

    const source = sourcesOutsideConfig();
    const unread = [...paths].filter((p) => !isRead(p, source)).sort();
    expect(unread, 'settings accepted and ignored: read them where they act, or remove them from src/config').toEqual([]);
  });

  it('when a key is read nowhere, or only mentioned in a comment, then the scan says so (the check can fail)', () => {
    expect(isRead('noSuchSettingAnywhere', sourcesOutsideConfig())).toBe(false);
    expect(isRead('twilio.noSuchField', sourcesOutsideConfig())).toBe(false);
    expect(isRead('lateConfirmationPolicy', '// config.lateConfirmationPolicy\n')).toBe(false);
    expect(isRead('lateConfirmationPolicy', 'policy: config.lateConfirmationPolicy,')).toBe(true);
    expect(isRead('did.ttlSeconds', 'const { did } = deps.config;\nuse(did.ttlSeconds);')).toBe(true);
  });
});

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const off = (chain: string[]) => new RegExp(`\\bconfig\\??\\.${chain.map(esc).join('\\??\\.')}\\b`);
const destructured = (key: string, from: string) => new RegExp(`\\{[^{}]*\\b${esc(key)}\\b[^{}]*\\}\\s*=\\s*(?:[\\w.]*\\.)?${esc(from)}\\b`);
const asProperty = (key: string) => new RegExp(`\\.${esc(key)}\\b|[{,]\\s*${esc(key)}\\s*[,}:]`);

/** Whether `source` (comments already taken out) reads the config key at `path` (see the test above). */
function isRead(path: string, source: string): boolean {
  const code = stripComments(source);
  const chain = path.split('.');
  const key = chain[chain.length - 1] ?? '';
  if (off(chain).test(code)) return true;
  if (chain.length === 1) return destructured(key, 'config').test(code);
  const parent = chain.slice(0, -1).join('.');
  return (isRead(parent, code) || destructured(chain[chain.length - 2] ?? '', 'config').test(code)) && asProperty(key).test(code);
}

const stripComments = (ts: string) => ts.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

/** Every .ts file under src/ except src/config, joined (comments kept out: a mention is not a read). */
function sourcesOutsideConfig(): string {
  const root = 'src';
  const files: string[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (relative(root, path) !== 'config') visit(path);
      } else if (name.endsWith('.ts')) files.push(path);
    }
  };
  visit(root);
  return files.map((f) => stripComments(readFileSync(f, 'utf8'))).join('\n');
}
