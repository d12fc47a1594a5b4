import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REQUIRED_IN_PRODUCTION } from '../src/config/production.js';
import { envSchema } from '../src/config/schema.js';
import { SECRET_SETTINGS } from '../src/config/secrets.js';
import { parseDockerfile } from './support/dockerfile.js';

interface Service {
  image?: string;
  build?: { target?: string } | string;
  user?: string;
  command?: string[] | string;
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: unknown };
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
}
const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, Service> };
const services = compose.services;
const app = services.app ?? {};
const appEnv = app.environment ?? {};

/** The variables of README's settings table (the first column of each row under "## Settings"). */
function settingsTable(): string[] {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Settings'), readme.indexOf('\n## ', readme.indexOf('## Settings') + 3));
  return section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .flatMap((l) => [...(l.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1] ?? ''));
}

/** What compose makes of a value when the operator sets nothing optional: undefined = empty (unset). */
function resolvesTo(value: string): 'required' | 'value' | 'empty' {
  const refs = [...value.matchAll(/\$\{(\w+)(:?[-?])([^}]*)\}/g)];
  if (refs.some((r) => r[2]?.endsWith('?'))) return 'required';
  const literal = value.replace(/\$\{[^}]*\}/g, (ref) => /:-(.+)\}$/.exec(ref)?.[1] ?? '');
  return literal.trim() === '' ? 'empty' : 'value';
}

/** A setting or variable that carries a secret, in any service. */
const isSecretName = (name: string) => (SECRET_SETTINGS as readonly string[]).includes(name) || /PASSWORD|SECRET|TOKEN|_AUTH$|API_KEY|ACCESS_KEY$/.test(name);

/** Images whose default user is root and that cannot run otherwise here, with the reason. */
const ROOT_ALLOWED: Record<string, string> = {
  minio: 'the MinIO image has no unprivileged user and its data volume is created root-owned',
};

describe('docker-compose.yml against the settings', () => {
  it('when read, then every setting of the README table and of the config schema can be passed to the app', () => {
    const table = settingsTable();
    expect(table.length).toBeGreaterThan(20);
    const passable = Object.keys(appEnv);
    expect(table.filter((name) => !passable.includes(name))).toEqual([]);
    expect(Object.keys(envSchema.shape).filter((name) => !passable.includes(name))).toEqual([]);
    // Nothing passed that the app does not read (the AWS chain is read by the S3 client).
    expect(passable.filter((name) => !(name in envSchema.shape) && !name.startsWith('AWS_'))).toEqual([]);
  });

  it('when nothing optional is set, then every setting production requires still reaches the app (or compose stops, naming it)', () => {
    expect(appEnv.NODE_ENV).toBe('production');
    for (const names of REQUIRED_IN_PRODUCTION) {
      const given = names.filter((n) => appEnv[n] !== undefined && resolvesTo(appEnv[n] ?? '') !== 'empty');
      expect(given, names.join(' or ')).not.toEqual([]);
    }
    expect(resolvesTo(appEnv.PUBLIC_BASE_URL ?? '')).toBe('required');
  });

  it('when a service gets a secret, then its value comes from the environment, never a literal in the file', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (!isSecretName(key)) continue;
        // From a variable: required (`:?`), or optional with no default (`:-` and nothing after it).
        expect(String(value), `${name}.${key}`).toMatch(/\$\{\w+(:\?[^}]*|:-)\}/);
        expect(String(value), `${name}.${key}`).not.toMatch(/:-[^}]/);
      }
    }
    // Redis's password is an argument: it too comes from the environment.
    const redisArgs = services.redis?.command as string[];
    expect(redisArgs[redisArgs.indexOf('--requirepass') + 1]).toMatch(/^\$\{REDIS_PASSWORD:\?[^}]*\}$/);
    expect(appEnv.REDIS_URL).toContain('${REDIS_PASSWORD:?');
  });

  it('when the app talks to MinIO, then it uses its own user, never the root credentials', () => {
    expect(appEnv.AWS_ACCESS_KEY_ID).not.toMatch(/MINIO_ROOT/);
    expect(appEnv.AWS_SECRET_ACCESS_KEY).not.toMatch(/MINIO_ROOT/);
    expect(Object.keys(appEnv).filter((k) => k.startsWith('MINIO_'))).toEqual([]);
    const init = [services['minio-init']?.command ?? []].flat().join('\n');
    expect(init).toMatch(/mc admin user add root "\$\$S3_APP_ACCESS_KEY"/);
    expect(init).toMatch(/mc admin policy attach root vaultline-statements --user/);
    const policy = JSON.parse(readFileSync('deploy/minio/statements-policy.json', 'utf8')) as { Statement: { Action: string[] }[] };
    expect(policy.Statement.flatMap((s) => s.Action).sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
  });

  it('when the audit trail is stored, then PostgreSQL keeps it on a volume, one-shots make its roles and table, and the app connects as the insert/select role', () => {
    const postgres = services.postgres ?? {};
    expect(postgres.image).toMatch(/^postgres:1[5-9]\b/);
    expect(postgres.volumes).toContain('audit-data:/var/lib/postgresql/data');
    expect(postgres.ports ?? []).toEqual([]);
    // The superuser's password: only the server and the roles one-shot, never the app or the migrate step.
    const holders = Object.entries(services).filter(([, s]) => Object.values(s.environment ?? {}).some((v) => String(v).includes('${POSTGRES_PASSWORD'))).map(([n]) => n);
    expect(holders.sort()).toEqual(['postgres', 'postgres-init']);

    // postgres-init: the roles script, as the superuser; the script makes neither role a superuser.
    const init = services['postgres-init'] ?? {};
    expect(init.restart).toBe('no');
    expect(init.volumes).toContain('./deploy/postgres:/init:ro');
    expect(init.command).toEqual(['psql', '--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '-f', '/init/audit-roles.sql']);
    const script = readFileSync('deploy/postgres/audit-roles.sql', 'utf8');
    for (const role of ['vaultline_owner', 'vaultline_app']) expect(script).toMatch(new RegExp(`ALTER ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`));
    expect(script).toMatch(/CREATE DATABASE vaultline OWNER vaultline_owner/);

    // audit-migrate: `npm run audit -- migrate` in the Dockerfile's tools stage, as the owner, granting the app's role.
    const migrate = services['audit-migrate'] ?? {};
    expect(migrate.restart).toBe('no');
    const target = typeof migrate.build === 'object' ? migrate.build.target : undefined;
    const tools = parseDockerfile(readFileSync('Dockerfile', 'utf8')).find((s) => s.name === target);
    expect(tools?.steps.find((s) => s.instruction === 'ENTRYPOINT')?.args).toBe('["npm", "run", "--silent"]');
    expect(tools?.steps.some((s) => s.instruction === 'COPY' && s.args === 'scripts ./scripts')).toBe(true);
    expect(migrate.command).toEqual(['audit', '--', 'migrate', '--app-role', 'vaultline_app']);
    expect(migrate.environment?.AUDIT_DATABASE_URL).toMatch(/^postgres:\/\/vaultline_owner:\$\{AUDIT_DB_OWNER_PASSWORD:\?[^}]*\}@postgres:5432\/vaultline$/);
    expect(migrate.depends_on).toEqual({ 'postgres-init': { condition: 'service_completed_successfully' } });

    // The app: the role migrate granted INSERT and SELECT, and only once the table is there.
    expect(appEnv.AUDIT_DATABASE_URL).toMatch(/^postgres:\/\/vaultline_app:\$\{AUDIT_DB_APP_PASSWORD:\?[^}]*\}@postgres:5432\/vaultline$/);
    expect(app.depends_on?.['audit-migrate']).toEqual({ condition: 'service_completed_successfully' });
  });

  it('when Redis starts, then it keeps an append-only file fsynced every second, never evicts and asks for a password', () => {
    const args = services.redis?.command as string[];
    const value = (flag: string) => args[args.indexOf(flag) + 1];
    expect(args[0]).toBe('redis-server');
    expect(value('--appendonly')).toBe('yes');
    expect(value('--appendfsync')).toBe('everysec');
    expect(value('--maxmemory-policy')).toBe('noeviction');
    expect(args).toContain('--requirepass');
  });

  it('when ports are published, then only on 127.0.0.1', () => {
    const published = Object.values(services).flatMap((s) => s.ports ?? []);
    expect(published.length).toBeGreaterThan(0);
    expect(published.filter((p) => !p.startsWith('127.0.0.1:'))).toEqual([]);
  });

  it('when services start, then each long-running one has a health check and each waits for what it needs to be healthy', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.restart !== 'no') expect(service.healthcheck?.test, `${name} health check`).toBeDefined();
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        const oneShot = services[dependency]?.restart === 'no';
        expect(condition, `${name} → ${dependency}`).toBe(oneShot ? 'service_completed_successfully' : 'service_healthy');
      }
    }
    expect(Object.keys(app.depends_on ?? {}).sort()).toEqual(Object.keys(services).filter((s) => s !== 'app').sort());
  });

  it('when services run, then none runs as root where its image allows otherwise', () => {
    const dockerfileUser = parseDockerfile(readFileSync('Dockerfile', 'utf8')).at(-1)?.steps.find((s) => s.instruction === 'USER')?.args;
    for (const [name, service] of Object.entries(services)) {
      const user = service.user ?? (service.build !== undefined ? dockerfileUser : undefined);
      if (user === undefined) expect(ROOT_ALLOWED[name], `${name} runs as root`).toBeDefined();
      else expect(user, name).not.toMatch(/^(root|0)(:|$)/);
    }
  });
});
