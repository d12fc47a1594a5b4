import { readFileSync } from 'node:fs';
import type { Config } from './load.js';

/**
 * Settings that hold a secret (or a URL that may carry one). Each may instead be given as
 * `NAME_FILE=/path` (Docker and Kubernetes secrets mount files, and a file keeps the value out of
 * `docker inspect`, `/proc/<pid>/environ` and shell history). Adding a secret setting: one line here.
 */
export const SECRET_SETTINGS = [
  'TWILIO_AUTH_TOKEN',
  'ADMIN_API_KEY',
  'API_CLIENTS',
  'TOKEN_SIGNING_KEYS',
  'DATA_SECRET',
  'REDIS_URL',
  'REDIS_PASSWORD',
  'REDIS_SENTINEL_PASSWORD',
  'AUDIT_DATABASE_URL',
  'AUDIT_REVIEWERS',
] as const;

export interface ResolvedSecrets {
  /** The source with every `NAME_FILE` replaced by `NAME` holding the file's content. */
  values: Record<string, string | undefined>;
  /** One line per file that cannot be read or per NAME given twice. */
  problems: string[];
  /** Settings whose value came from a file (so messages can say where to look). */
  fromFile: ReadonlySet<string>;
  /** Settings whose file could not be read or was empty (already named in `problems`). */
  unreadable: ReadonlySet<string>;
}

const given = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/** Replaces `NAME_FILE` by the file's content for every secret setting; never reads a file twice. */
export function resolveSecretFiles(source: Record<string, string | undefined>, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): ResolvedSecrets {
  const values: Record<string, string | undefined> = { ...source };
  const problems: string[] = [];
  const fromFile = new Set<string>();
  const unreadable = new Set<string>();
  for (const name of SECRET_SETTINGS) {
    const fileKey = `${name}_FILE`;
    const path = source[fileKey];
    delete values[fileKey];
    if (!given(path)) continue;
    if (given(source[name])) {
      problems.push(`${name} and ${fileKey}: both are set; give the secret one way only`);
      continue;
    }
    try {
      // A trailing newline is how editors and `echo` end a file, never part of the secret.
      const content = read(path.trim()).replace(/\r?\n$/, '');
      if (content.trim() === '') {
        problems.push(`${fileKey}: ${path.trim()} is empty`);
        unreadable.add(name);
      }
      values[name] = content;
      fromFile.add(name);
    } catch (err) {
      // The path is not secret; the error code says why (ENOENT, EACCES, EISDIR).
      const code = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
      problems.push(`${fileKey}: cannot read ${path.trim()} (${code})`);
      unreadable.add(name);
    }
  }
  return { values, problems, fromFile, unreadable };
}

/**
 * Every secret value the configuration holds, for the log scrubber (DESIGN B4): a line that carries
 * one by mistake (an error echoing a credential, a careless debug field) is scrubbed of it.
 */
export function configuredSecrets(config: Config): string[] {
  const { password, sentinelPassword } = config.store as { password?: string; sentinelPassword?: string };
  return [
    config.twilio.authToken,
    config.adminApiKey,
    config.dataSecret.toString('utf8'),
    ...config.apiClients.map((c) => c.secret),
    ...config.auditReviewers.map((r) => r.secret),
    ...[password, sentinelPassword].filter((p): p is string => p !== undefined),
  ];
}
