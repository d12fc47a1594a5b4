import { z } from 'zod';

/**
 * Every setting of DESIGN A2 (plus a few documented extensions), parsed once at start.
 * Values here are what the environment said; demo defaults are filled in by `load.ts`
 * so that production can refuse them.
 */
const optionalString = z
  .string()
  .transform((s) => s.trim())
  .pipe(z.string())
  .optional()
  .transform((s) => (s === '' ? undefined : s));

const intIn = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const bool = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((v) => v === 'true' || v === '1');

export const envSchema = z.object({
  PORT: intIn(1, 65535, 3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  SHUTDOWN_DRAIN_SECONDS: intIn(0, 300, 5),
  PUBLIC_BASE_URL: optionalString.pipe(
    z
      .url({ protocol: /^https?$/ })
      // Signatures are checked against PUBLIC_BASE_URL + path?query: a query or fragment here would break every one.
      .refine((u) => !/[?#]/.test(u), 'must not carry a query or a fragment')
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
  ),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  REDIS_URL: optionalString.pipe(
    z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .optional(),
  ),
  REDIS_CLUSTER_NODES: optionalString.pipe(
    z
      .string()
      .regex(/^[^,\s:]+:\d+(,[^,\s:]+:\d+)*$/, 'must be a comma list of host:port')
      .optional(),
  ),
  REDIS_SENTINELS: optionalString.pipe(
    z
      .string()
      .regex(/^[^,\s:]+:\d+(,[^,\s:]+:\d+)*$/, 'must be a comma list of host:port')
      .optional(),
  ),
  REDIS_SENTINEL_NAME: optionalString,
  /** Cluster and Sentinel data nodes (REDIS_URL carries its own). */
  REDIS_PASSWORD: optionalString,
  REDIS_SENTINEL_PASSWORD: optionalString,
  /** TLS to Cluster and Sentinel nodes (REDIS_URL says rediss:// instead). */
  REDIS_TLS: bool,
  /** Extension: prefix of every store key (tests use a fresh one each). */
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]*$/).default('vl:'),
  TWILIO_ACCOUNT_SID: optionalString,
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_API_BASE_URL: optionalString.pipe(z.url().optional()),
  TWILIO_SMS_FROM: optionalString,
  ADMIN_API_KEY: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  API_CLIENTS: optionalString.pipe(
    z
      .string()
      .regex(/^[^:,\s]+:[^,\s]+(,[^:,\s]+:[^,\s]+)*$/, 'must be id:secret,…')
      .optional(),
  ),
  TOKEN_SIGNING_KEYS: optionalString,
  /** 32+ character secret for keyed hashes and sealing; required in production, a demo value in development. */
  DATA_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  BANK_DATA_FILE: optionalString,
  BANKING_API_URL: optionalString.pipe(z.url().optional()),
  STATEMENTS_DIR: optionalString,
  S3_BUCKET: optionalString,
  S3_ENDPOINT: optionalString.pipe(z.url().optional()),
  S3_REGION: optionalString,
  S3_FORCE_PATH_STYLE: bool,
  DID_TTL_SECONDS: intIn(30, 600, 90),
  DID_LENGTH: intIn(6, 10, 6),
  LINK_TTL_SECONDS: intIn(60, 86_400, 600),
  LATE_CONFIRMATION_POLICY: z.enum(['ignore', 'recently-verified']).default('ignore'),
  FAIL_MODE: z.enum(['closed', 'open-low-risk']).default('closed'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Reverse-proxy hops whose X-Forwarded-For is believed: client addresses only, never our own URL. */
  TRUST_PROXY: intIn(0, 10, 0),
  /** Requests per second one /api/v1 client may make, all its calls together (a 2,000-seat centre polling every 2 s sends 1,000). */
  API_RATE_LIMIT_PER_CLIENT: intIn(1, 1_000_000, 1000),
  /** Requests per second about one call, whoever sends them. */
  API_RATE_LIMIT_PER_CALL: intIn(1, 100_000, 20),
  /** postgres://… the durable audit trail (DESIGN A11); unset = the embedded PGlite (development only). */
  AUDIT_DATABASE_URL: optionalString.pipe(z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional()),
  /** Days of audit events kept (PCI DSS 10.5.1 asks at least 365); `npm run audit -- retain` drops older day partitions. */
  AUDIT_RETENTION_DAYS: intIn(1, 3650, 400),
  /**
   * `name:secret,…` named read-only compliance reviewers (A11). Names become the audit actor's id;
   * secrets are measured here, in every environment (there is no legacy short value to keep working).
   */
  AUDIT_REVIEWERS: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}:[^,\s]+(,[A-Za-z0-9][A-Za-z0-9._-]{0,63}:[^,\s]+)*$/, 'must be name:secret,… (a name is letters, digits, ".", "_", "-")')
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        for (const pair of list.split(',')) {
          const i = pair.indexOf(':');
          const name = pair.slice(0, i);
          if (pair.length - i - 1 < 16) ctx.addIssue({ code: 'custom', message: `the secret of "${name}" is shorter than 16 characters` });
          if (seen.has(name)) ctx.addIssue({ code: 'custom', message: `"${name}" is listed twice` });
          seen.add(name);
        }
      })
      .optional(),
  ),
  /** Extension: folder of flow files. */
  FLOWS_DIR: z.string().default('flows'),
  /** Extension, development with the embedded store only: where enrolled devices outlive a restart. */
  EMBEDDED_DEVICES_FILE: z.string().min(1).default('.vaultline/embedded-devices.json'),
});

export type Env = z.infer<typeof envSchema>;
