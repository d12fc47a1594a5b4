import { createHash } from 'node:crypto';
import { z } from 'zod';
import { envSchema, type Env } from './schema.js';

export type StoreConfig =
  | { kind: 'embedded' }
  | { kind: 'redis'; url: string }
  | { kind: 'cluster'; nodes: { host: string; port: number }[] };

export type SigningJwk = { kid: string; kty: string; crv?: string; d: string; [k: string]: unknown };

export interface Config {
  readonly env: Env['NODE_ENV'];
  readonly isProduction: boolean;
  readonly port: number;
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
  readonly flowsDir: string;
  /** Settings that were unset and got a demo value (logged once at start). */
  readonly demoDefaults: readonly string[];
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
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
} as const;

const jwkSchema = z
  .object({ kid: z.string().min(1), kty: z.enum(['EC', 'OKP']), crv: z.string().optional(), d: z.string().min(1) })
  .loose()
  .refine((k) => (k.kty === 'EC' ? k.crv === 'P-256' : k.crv === 'Ed25519'), {
    message: 'only EC P-256 (ES256) or OKP Ed25519 (EdDSA) keys are accepted',
  });
const jwkListSchema = z.array(jwkSchema).min(1);

function parseSigningKeys(raw: string): SigningJwk[] {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError('TOKEN_SIGNING_KEYS: must be a JSON array of private JWKs with "kid"');
  }
  const parsed = jwkListSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(`TOKEN_SIGNING_KEYS: ${parsed.error.issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; ')}`);
  }
  return parsed.data as SigningJwk[];
}

function parseNodes(list: string): { host: string; port: number }[] {
  return list.split(',').map((hp) => {
    const i = hp.lastIndexOf(':');
    return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
  });
}

/** Parses the environment into a frozen Config, or throws one ConfigError naming every bad or missing key. */
export function loadConfig(source: Record<string, string | undefined>): Config {
  // An empty value (`PORT=` in a .env file, `${VAR:-}` in compose) means unset for every setting,
  // not only the string ones: otherwise `PORT=` coerces to 0 and `S3_FORCE_PATH_STYLE=` is refused.
  const given = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = envSchema.safeParse(given);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid settings: ${lines.join('; ')}`);
  }
  const env = parsed.data;
  const isProduction = env.NODE_ENV === 'production';
  const demoDefaults: string[] = [];
  const missing: string[] = [];

  /** A setting with a demo value in development, required in production. */
  const secret = (name: keyof typeof DEMO, value: string | undefined): string => {
    if (value !== undefined) return value;
    if (isProduction) {
      missing.push(name);
      return '';
    }
    demoDefaults.push(name);
    return DEMO[name];
  };
  /** One of two settings must be given in production. */
  const either = (a: string, b: string, given: boolean) => {
    if (!given && isProduction) missing.push(`${a} or ${b}`);
  };

  const publicBaseUrl = env.PUBLIC_BASE_URL ?? `http://localhost:${env.PORT}`;
  const accountSid = secret('TWILIO_ACCOUNT_SID', env.TWILIO_ACCOUNT_SID);
  const authToken = secret('TWILIO_AUTH_TOKEN', env.TWILIO_AUTH_TOKEN);
  const smsFrom = secret('TWILIO_SMS_FROM', env.TWILIO_SMS_FROM);
  const adminApiKey = secret('ADMIN_API_KEY', env.ADMIN_API_KEY);
  const apiClientsRaw = secret('API_CLIENTS', env.API_CLIENTS);

  let tokenSigningKeys: SigningJwk[] = [];
  if (env.TOKEN_SIGNING_KEYS !== undefined) tokenSigningKeys = parseSigningKeys(env.TOKEN_SIGNING_KEYS);
  else if (isProduction) missing.push('TOKEN_SIGNING_KEYS');
  else demoDefaults.push('TOKEN_SIGNING_KEYS');

  let store: StoreConfig = { kind: 'embedded' };
  if (env.REDIS_CLUSTER_NODES) store = { kind: 'cluster', nodes: parseNodes(env.REDIS_CLUSTER_NODES) };
  else if (env.REDIS_URL) store = { kind: 'redis', url: env.REDIS_URL };
  either('REDIS_URL', 'REDIS_CLUSTER_NODES', store.kind !== 'embedded');

  either('BANK_DATA_FILE', 'BANKING_API_URL', Boolean(env.BANK_DATA_FILE || env.BANKING_API_URL));
  const banking: Config['banking'] = env.BANKING_API_URL
    ? { kind: 'http', url: env.BANKING_API_URL }
    : { kind: 'demo', file: env.BANK_DATA_FILE ?? (isProduction ? '' : (demoDefaults.push('BANK_DATA_FILE'), DEMO.BANK_DATA_FILE)) };

  either('STATEMENTS_DIR', 'S3_BUCKET', Boolean(env.STATEMENTS_DIR || env.S3_BUCKET));
  const statements: Config['statements'] = env.S3_BUCKET
    ? {
        kind: 's3',
        bucket: env.S3_BUCKET,
        ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT } : {}),
        ...(env.S3_REGION ? { region: env.S3_REGION } : {}),
        forcePathStyle: env.S3_FORCE_PATH_STYLE,
      }
    : { kind: 'local', dir: env.STATEMENTS_DIR ?? (isProduction ? '' : (demoDefaults.push('STATEMENTS_DIR'), DEMO.STATEMENTS_DIR)) };

  if (missing.length > 0) {
    throw new ConfigError(`Missing required settings for NODE_ENV=production: ${missing.join(', ')}`);
  }

  // DATA_SECRET falls back to a derivation from the first signing key so a production deploy with
  // only the A2 settings works; rotating that key then also rotates DID hashes (live DIDs: ≤ 10 min).
  let dataSecret: Buffer;
  if (env.DATA_SECRET) dataSecret = Buffer.from(env.DATA_SECRET, 'utf8');
  else if (tokenSigningKeys[0]) dataSecret = createHash('sha256').update(`vaultline-data:${tokenSigningKeys[0].d}`).digest();
  else dataSecret = Buffer.from(DEMO.DATA_SECRET, 'utf8');

  const config: Config = {
    env: env.NODE_ENV,
    isProduction,
    port: env.PORT,
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
    tokenSigningKeys,
    dataSecret,
    banking,
    statements,
    did: { ttlSeconds: env.DID_TTL_SECONDS, length: env.DID_LENGTH },
    linkTtlSeconds: env.LINK_TTL_SECONDS,
    lateConfirmationPolicy: env.LATE_CONFIRMATION_POLICY,
    failMode: env.FAIL_MODE,
    flowsDir: env.FLOWS_DIR,
    demoDefaults,
  };
  return Object.freeze(config);
}
