import { z } from 'zod';
import { productionProblems } from './production.js';
import { envSchema, type Env } from './schema.js';
import { resolveSecretFiles } from './secrets.js';

export interface RedisNode {
  host: string;
  port: number;
}

/** Credentials and TLS for Cluster and Sentinel nodes; a REDIS_URL carries its own. */
export interface NodeAuth {
  password?: string;
  tls?: boolean;
}

export type StoreConfig =
  | { kind: 'embedded' }
  | { kind: 'redis'; url: string }
  | ({ kind: 'cluster'; nodes: RedisNode[] } & NodeAuth)
  | ({ kind: 'sentinel'; sentinels: RedisNode[]; name: string; sentinelPassword?: string } & NodeAuth);

export type SigningJwk = { kid: string; kty: string; crv?: string; d: string; [k: string]: unknown };

export interface Config {
  readonly env: Env['NODE_ENV'];
  readonly isProduction: boolean;
  readonly port: number;
  /** Listen address. */
  readonly host: string;
  /** After SIGTERM: how long /readyz says 503 while everything else is still served (A12). */
  readonly shutdownDrainSeconds: number;
  readonly publicBaseUrl: string;
  readonly logLevel: Env['LOG_LEVEL'];
  readonly store: StoreConfig;
  readonly keyPrefix: string;
  readonly twilio: {
    readonly accountSid: string;
    readonly authToken: string;
    /** undefined = the built-in phone simulator (development only). */
    readonly apiBaseUrl: string | undefined;
    readonly smsFrom: string;
  };
  readonly adminApiKey: string;
  readonly apiClients: readonly { id: string; secret: string }[];
  /** Named read-only compliance reviewers (AUDIT_REVIEWERS): the audit routes and the console, nothing else. */
  readonly auditReviewers: readonly { name: string; secret: string }[];
  /** Private JWKs; empty = generate one per process (development only). */
  readonly tokenSigningKeys: readonly SigningJwk[];
  /** Key material for keyed DID hashes and sealed DIDs. */
  readonly dataSecret: Buffer;
  readonly banking: { kind: 'demo'; file: string } | { kind: 'http'; url: string };
  readonly statements:
    | { kind: 'local'; dir: string }
    | { kind: 's3'; bucket: string; endpoint?: string; region?: string; forcePathStyle: boolean };
  readonly did: { readonly ttlSeconds: number; readonly length: number };
  readonly linkTtlSeconds: number;
  readonly lateConfirmationPolicy: Env['LATE_CONFIRMATION_POLICY'];
  readonly failMode: Env['FAIL_MODE'];
  /** Proxy hops in front of the app (TRUST_PROXY): for client addresses (rate limits, audit) only. */
  readonly trustProxyHops: number;
  /** Requests per second (API_RATE_LIMIT_PER_CLIENT, API_RATE_LIMIT_PER_CALL). */
  readonly apiRateLimits: { readonly perClient: number; readonly perCall: number };
  readonly flowsDir: string;
  /** Development with the embedded store: the file that keeps enrolled devices across restarts. */
  readonly embeddedDevicesFile: string;
  /** The durable audit trail (A11): PostgreSQL, or (development only) the embedded PGlite. */
  readonly audit: { readonly databaseUrl: string | undefined; readonly retentionDays: number };
  /** Settings that were unset and got a demo value (logged once at start). */
  readonly demoDefaults: readonly string[];
}

/** Start-up refused: `problems` holds one line per missing, refused or malformed setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];
  /** A single problem (a fixture file) or the list, under one heading. */
  constructor(problems: string | readonly string[], heading?: string) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(heading === undefined ? list.join('; ') : `${heading}: ${list.join('; ')}`);
    this.problems = list;
  }
}

// Demo values: fixed so the simulator, the dev console and the README agree. Never used in production.
const DEMO = {
  TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
  TWILIO_AUTH_TOKEN: 'dev-twilio-auth-token-not-a-secret',
  TWILIO_SMS_FROM: '+15005550006',
  ADMIN_API_KEY: 'dev-admin-key-not-a-secret',
  API_CLIENTS: 'demo:demo-secret-not-a-secret',
  BANK_DATA_FILE: 'data/demo-bank.json',
  STATEMENTS_DIR: 'data/statements',
  DATA_SECRET: 'dev-data-secret-not-a-secret-0123456789',
  AUDIT_REVIEWERS: 'reviewer:dev-reviewer-secret-not-a-secret',
} as const;

const jwkSchema = z
  .object({ kid: z.string().min(1), kty: z.enum(['EC', 'OKP']), crv: z.string().optional(), d: z.string().min(1) })
  .loose()
  .refine((k) => (k.kty === 'EC' ? k.crv === 'P-256' : k.crv === 'Ed25519'), {
    message: 'only EC P-256 (ES256) or OKP Ed25519 (EdDSA) keys are accepted',
  });
const jwkListSchema = z.array(jwkSchema).min(1);

/** The keys, or the problem with them (without the setting's name). */
function parseSigningKeys(raw: string): SigningJwk[] | string {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return 'must be a JSON array of private JWKs with "kid"';
  }
  const parsed = jwkListSchema.safeParse(json);
  if (!parsed.success) return parsed.error.issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; ');
  return parsed.data as SigningJwk[];
}

function parseNodes(list: string): RedisNode[] {
  return list.split(',').map((hp) => {
    const i = hp.lastIndexOf(':');
    return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
  });
}

/** Which store: Sentinel wins over Cluster, Cluster over one Redis URL; none = the embedded store. */
function storeConfig(env: Env): StoreConfig {
  const auth: NodeAuth = { ...(env.REDIS_TLS ? { tls: true } : {}), ...(env.REDIS_PASSWORD ? { password: env.REDIS_PASSWORD } : {}) };
  // loadConfig refused REDIS_SENTINELS without REDIS_SENTINEL_NAME already.
  if (env.REDIS_SENTINELS && env.REDIS_SENTINEL_NAME) {
    return {
      kind: 'sentinel',
      sentinels: parseNodes(env.REDIS_SENTINELS),
      name: env.REDIS_SENTINEL_NAME,
      ...(env.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: env.REDIS_SENTINEL_PASSWORD } : {}),
      ...auth,
    };
  }
  if (env.REDIS_CLUSTER_NODES) return { kind: 'cluster', nodes: parseNodes(env.REDIS_CLUSTER_NODES), ...auth };
  if (env.REDIS_URL) return { kind: 'redis', url: env.REDIS_URL };
  return { kind: 'embedded' };
}

/**
 * Parses the environment into a frozen Config, or throws one ConfigError naming every bad, missing
 * or refused setting (and every `NAME_FILE` that cannot be read) at once.
 */
export function loadConfig(source: Record<string, string | undefined>): Config {
  const secrets = resolveSecretFiles(source);
  const label = (name: string) => (secrets.fromFile.has(name) ? `${name} (from ${name}_FILE)` : name);
  // An empty value (`PORT=` in a .env file, `${VAR:-}` in compose) means unset for every setting,
  // not only the string ones: otherwise `PORT=` coerces to 0 and `S3_FORCE_PATH_STYLE=` is refused.
  const given = Object.fromEntries(Object.entries(secrets.values).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const isProduction = given.NODE_ENV?.trim() === 'production';
  const problems = [...secrets.problems];
  const parsed = envSchema.safeParse(given);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${label(i.path.map(String).join('.'))}: ${i.message}`));
  if (isProduction) problems.push(...productionProblems(given, label, secrets.unreadable));
  if (given.REDIS_SENTINELS && !given.REDIS_SENTINEL_NAME) problems.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the master name Sentinel monitors)');
  let tokenSigningKeys: SigningJwk[] = [];
  if (given.TOKEN_SIGNING_KEYS !== undefined) {
    const keys = parseSigningKeys(given.TOKEN_SIGNING_KEYS);
    if (typeof keys === 'string') problems.push(`${label('TOKEN_SIGNING_KEYS')}: ${keys}`);
    else tokenSigningKeys = keys;
  }
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigError(problems, isProduction ? 'Missing or refused settings for NODE_ENV=production' : 'Invalid settings');
  }
  const env = parsed.data;
  const demoDefaults: string[] = [];

  /** The given value, or (development only: production refused above) the demo value, noted. */
  const orDemo = (name: keyof typeof DEMO, value: string | undefined): string => {
    if (value !== undefined) return value;
    demoDefaults.push(name);
    return DEMO[name];
  };

  const publicBaseUrl = env.PUBLIC_BASE_URL ?? `http://localhost:${env.PORT}`;
  const accountSid = orDemo('TWILIO_ACCOUNT_SID', env.TWILIO_ACCOUNT_SID);
  const authToken = orDemo('TWILIO_AUTH_TOKEN', env.TWILIO_AUTH_TOKEN);
  const smsFrom = orDemo('TWILIO_SMS_FROM', env.TWILIO_SMS_FROM);
  const adminApiKey = orDemo('ADMIN_API_KEY', env.ADMIN_API_KEY);
  const apiClientsRaw = orDemo('API_CLIENTS', env.API_CLIENTS);
  const auditReviewersRaw = orDemo('AUDIT_REVIEWERS', env.AUDIT_REVIEWERS);
  if (tokenSigningKeys.length === 0) demoDefaults.push('TOKEN_SIGNING_KEYS');
  // Never derived from another secret: rotating the signing keys must not change code hashes or
  // open what was sealed before (and production requires it, above).
  const dataSecret = Buffer.from(orDemo('DATA_SECRET', env.DATA_SECRET), 'utf8');

  const store = storeConfig(env);

  const banking: Config['banking'] = env.BANKING_API_URL
    ? { kind: 'http', url: env.BANKING_API_URL }
    : { kind: 'demo', file: orDemo('BANK_DATA_FILE', env.BANK_DATA_FILE) };

  const statements: Config['statements'] = env.S3_BUCKET
    ? {
        kind: 's3',
        bucket: env.S3_BUCKET,
        ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT } : {}),
        ...(env.S3_REGION ? { region: env.S3_REGION } : {}),
        forcePathStyle: env.S3_FORCE_PATH_STYLE,
      }
    : { kind: 'local', dir: orDemo('STATEMENTS_DIR', env.STATEMENTS_DIR) };

  const config: Config = {
    env: env.NODE_ENV,
    isProduction,
    port: env.PORT,
    host: env.HOST,
    shutdownDrainSeconds: env.SHUTDOWN_DRAIN_SECONDS,
    publicBaseUrl,
    logLevel: env.LOG_LEVEL,
    store,
    keyPrefix: env.REDIS_KEY_PREFIX,
    twilio: {
      accountSid,
      authToken,
      apiBaseUrl: env.TWILIO_API_BASE_URL ?? (isProduction ? 'https://api.twilio.com' : undefined),
      smsFrom,
    },
    adminApiKey,
    apiClients: apiClientsRaw.split(',').map((pair) => {
      const i = pair.indexOf(':');
      return { id: pair.slice(0, i), secret: pair.slice(i + 1) };
    }),
    auditReviewers: auditReviewersRaw.split(',').map((pair) => {
      const i = pair.indexOf(':');
      return { name: pair.slice(0, i), secret: pair.slice(i + 1) };
    }),
    tokenSigningKeys,
    dataSecret,
    banking,
    statements,
    did: { ttlSeconds: env.DID_TTL_SECONDS, length: env.DID_LENGTH },
    linkTtlSeconds: env.LINK_TTL_SECONDS,
    lateConfirmationPolicy: env.LATE_CONFIRMATION_POLICY,
    failMode: env.FAIL_MODE,
    trustProxyHops: env.TRUST_PROXY,
    apiRateLimits: { perClient: env.API_RATE_LIMIT_PER_CLIENT, perCall: env.API_RATE_LIMIT_PER_CALL },
    flowsDir: env.FLOWS_DIR,
    embeddedDevicesFile: env.EMBEDDED_DEVICES_FILE,
    audit: { databaseUrl: env.AUDIT_DATABASE_URL, retentionDays: env.AUDIT_RETENTION_DAYS },
    demoDefaults,
  };
  return Object.freeze(config);
}
