import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/load.js';

function privateJwk(kid: string, type: 'ec' | 'ed25519' = 'ec'): Record<string, unknown> {
  const { privateKey } =
    type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  return { ...privateKey.export({ format: 'jwk' }), kid };
}

const signingKey = privateJwk('k1');

/** Every setting production requires, with made-up values. */
const production = {
  NODE_ENV: 'production',
  PUBLIC_BASE_URL: 'https://ivr.example.com',
  TWILIO_ACCOUNT_SID: 'AC11111111111111111111111111111111',
  TWILIO_AUTH_TOKEN: 'test-twilio-auth-token',
  TWILIO_SMS_FROM: '+15005550006',
  ADMIN_API_KEY: 'test-admin-key-0123456789',
  API_CLIENTS: 'genesys:g-secret-0123456789,five9:f-secret-0123456789',
  TOKEN_SIGNING_KEYS: JSON.stringify([signingKey]),
  DATA_SECRET: 'test-data-secret-of-at-least-32-characters',
  REDIS_URL: 'redis://redis:6379',
  BANKING_API_URL: 'https://core.bank.example.com',
  S3_BUCKET: 'statements',
  S3_REGION: 'eu-west-1',
  AUDIT_DATABASE_URL: 'postgres://vaultline_app@audit-db:5432/audit',
  AUDIT_REVIEWERS: 'alice:alice-secret-0123456789,bob.k:bob-secret-0123456789',
} as const;

const PRODUCTION_REQUIRED = [
  'PUBLIC_BASE_URL',
  'DATA_SECRET',
  'TWILIO_ACCOUNT_SID',
  'TWILIO_AUTH_TOKEN',
  'TWILIO_SMS_FROM',
  'ADMIN_API_KEY',
  'API_CLIENTS',
  'TOKEN_SIGNING_KEYS',
  'REDIS_URL or REDIS_CLUSTER_NODES or REDIS_SENTINELS',
  'BANK_DATA_FILE or BANKING_API_URL',
  'STATEMENTS_DIR or S3_BUCKET',
  'AUDIT_DATABASE_URL',
  'AUDIT_REVIEWERS',
];

/** The ConfigError that `loadConfig(env)` throws; fails the test when it returns or throws something else. */
function configErrorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('loadConfig in development', () => {
  it('when nothing is set, then it runs on port 3000 with the embedded store and lists every demo default it used', () => {
    const config = loadConfig({});

    expect(config.env).toBe('development');
    expect(config.isProduction).toBe(false);
    expect(config.port).toBe(3000);
    expect(config.publicBaseUrl).toBe('http://localhost:3000');
    expect(config.did).toEqual({ ttlSeconds: 90, length: 6 });
    expect(config.linkTtlSeconds).toBe(600);
    expect(config.lateConfirmationPolicy).toBe('ignore');
    expect(config.failMode).toBe('closed');
    expect(config.logLevel).toBe('info');
    expect(config.trustProxyHops).toBe(0);
    expect(config.apiRateLimits).toEqual({ perClient: 1000, perCall: 20 });
    expect(config.store).toEqual({ kind: 'embedded' });
    expect(config.banking).toEqual({ kind: 'demo', file: 'data/demo-bank.json' });
    expect(config.statements).toEqual({ kind: 'local', dir: 'data/statements' });
    expect(config.twilio.apiBaseUrl).toBeUndefined(); // the built-in phone simulator
    expect(config.tokenSigningKeys).toEqual([]); // generated per process
    expect(config.keyPrefix).toBe('vl:');
    expect(config.flowsDir).toBe('flows');
    expect([...config.demoDefaults].sort()).toEqual(
      [
        'TWILIO_ACCOUNT_SID',
        'TWILIO_AUTH_TOKEN',
        'TWILIO_SMS_FROM',
        'ADMIN_API_KEY',
        'API_CLIENTS',
        'TOKEN_SIGNING_KEYS',
        'BANK_DATA_FILE',
        'STATEMENTS_DIR',
        'DATA_SECRET',
        'AUDIT_REVIEWERS',
      ].sort(),
    );
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('when only PORT is set, then the default public base URL follows it', () => {
    expect(loadConfig({ PORT: '8080' }).publicBaseUrl).toBe('http://localhost:8080');
  });

  it('when a setting is given, then it is honoured and no longer listed as a demo default', () => {
    const config = loadConfig({ ADMIN_API_KEY: 'my-own-admin-key-123', BANK_DATA_FILE: 'fixtures/bank.json' });

    expect(config.adminApiKey).toBe('my-own-admin-key-123');
    expect(config.banking).toEqual({ kind: 'demo', file: 'fixtures/bank.json' });
    expect(config.demoDefaults).not.toContain('ADMIN_API_KEY');
    expect(config.demoDefaults).not.toContain('BANK_DATA_FILE');
  });

  it('when a value is empty (PORT= in a .env file), then it counts as unset', () => {
    const config = loadConfig({ PORT: '', DID_TTL_SECONDS: ' ', S3_FORCE_PATH_STYLE: '', REDIS_KEY_PREFIX: '', ADMIN_API_KEY: '' });

    expect(config.port).toBe(3000);
    expect(config.did.ttlSeconds).toBe(90);
    expect(config.keyPrefix).toBe('vl:');
    expect(config.demoDefaults).toContain('ADMIN_API_KEY');
  });
});

describe('loadConfig in production', () => {
  it('when nothing is set, then start-up stops with one ConfigError naming every missing setting', () => {
    const error = configErrorOf({ NODE_ENV: 'production' });

    for (const name of PRODUCTION_REQUIRED) expect(error.message).toContain(name);
  });

  it('when a required secret is present but empty, then it is still missing', () => {
    const error = configErrorOf({ ...production, ADMIN_API_KEY: '' });

    expect(error.message).toContain('ADMIN_API_KEY');
    expect(error.message).not.toContain('TWILIO_AUTH_TOKEN');
  });

  it('when every required setting is given, then it starts with no demo default and real Twilio', () => {
    const config = loadConfig(production);

    expect(config.isProduction).toBe(true);
    expect(config.demoDefaults).toEqual([]);
    expect(config.publicBaseUrl).toBe('https://ivr.example.com');
    expect(config.store).toEqual({ kind: 'redis', url: 'redis://redis:6379' });
    expect(config.banking).toEqual({ kind: 'http', url: 'https://core.bank.example.com' });
    expect(config.statements).toEqual({ kind: 's3', bucket: 'statements', region: 'eu-west-1', forcePathStyle: false });
    expect(config.twilio).toEqual({
      accountSid: production.TWILIO_ACCOUNT_SID,
      authToken: production.TWILIO_AUTH_TOKEN,
      apiBaseUrl: 'https://api.twilio.com',
      smsFrom: production.TWILIO_SMS_FROM,
    });
    expect(config.apiClients).toEqual([
      { id: 'genesys', secret: 'g-secret-0123456789' },
      { id: 'five9', secret: 'f-secret-0123456789' },
    ]);
    expect(config.tokenSigningKeys.map((k) => k.kid)).toEqual(['k1']);
    expect(config.dataSecret.toString('utf8')).toBe(production.DATA_SECRET);
    expect(config.auditReviewers).toEqual([
      { name: 'alice', secret: 'alice-secret-0123456789' },
      { name: 'bob.k', secret: 'bob-secret-0123456789' },
    ]);
  });

  it('when the demo bank file, a local statements dir and a Twilio simulator are given explicitly, then they are honoured', () => {
    const { BANKING_API_URL: _b, S3_BUCKET: _s, ...rest } = production;
    const config = loadConfig({
      ...rest,
      BANK_DATA_FILE: 'data/demo-bank.json',
      STATEMENTS_DIR: '/srv/statements',
      TWILIO_API_BASE_URL: 'http://twilio-sim:4010',
    });

    expect(config.banking).toEqual({ kind: 'demo', file: 'data/demo-bank.json' });
    expect(config.statements).toEqual({ kind: 'local', dir: '/srv/statements' });
    expect(config.twilio.apiBaseUrl).toBe('http://twilio-sim:4010');
    expect(config.demoDefaults).toEqual([]);
  });

  it.each(PRODUCTION_REQUIRED.map((name) => [name]))('when only %s is missing, then start-up stops naming it alone', (name) => {
    const env: Record<string, string | undefined> = { ...production };
    for (const n of name.split(' or ')) delete env[n];
    const error = configErrorOf(env);

    expect(error.problems).toEqual([`${name}: required in production`]);
  });

  it('when DATA_SECRET is missing, then production refuses to derive it from the signing key', () => {
    const { DATA_SECRET: _d, ...rest } = production;

    expect(configErrorOf(rest).problems).toEqual(['DATA_SECRET: required in production']);
  });

  it('when PUBLIC_BASE_URL is plain http, then production refuses it', () => {
    expect(configErrorOf({ ...production, PUBLIC_BASE_URL: 'http://ivr.example.com' }).problems).toEqual([
      'PUBLIC_BASE_URL: must be an https:// URL in production',
    ]);
  });

  it('when an API client secret or the admin key is shorter than 16 characters, then production names each, never the secret', () => {
    const error = configErrorOf({ ...production, API_CLIENTS: 'genesys:short-secret,five9:f-secret-0123456789,nice:x', ADMIN_API_KEY: 'fifteen-chars-x' });

    expect(error.problems).toHaveLength(3);
    expect(error.problems).toContain('API_CLIENTS: the secret of "genesys" is shorter than 16 characters');
    expect(error.problems).toContain('API_CLIENTS: the secret of "nice" is shorter than 16 characters');
    expect(error.problems.find((p) => p.startsWith('ADMIN_API_KEY'))).toMatch(/16 characters/);
    expect(error.message).not.toContain('short-secret');
    expect(error.message).not.toContain('fifteen-chars-x');
  });

  it('when a reviewer secret is short or a reviewer is listed twice, then start-up names each reviewer, never the secret', () => {
    const error = configErrorOf({ ...production, AUDIT_REVIEWERS: 'alice:too-short-here,bob:bob-secret-0123456789,bob:bob-secret-9876543210' });

    expect(error.problems).toEqual(['AUDIT_REVIEWERS: the secret of "alice" is shorter than 16 characters', 'AUDIT_REVIEWERS: "bob" is listed twice']);
    expect(error.message).not.toContain('too-short-here');
  });

  it('when AUDIT_REVIEWERS is not name:secret,…, then start-up names it without echoing it', () => {
    const error = configErrorOf({ ...production, AUDIT_REVIEWERS: 'alice-secret-0123456789' });

    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^AUDIT_REVIEWERS: must be name:secret/);
    expect(error.message).not.toContain('alice-secret-0123456789');
  });

  it('when several settings are wrong at once, then one error lists each of them on its own', () => {
    const { DATA_SECRET: _d, TWILIO_SMS_FROM: _t, ...rest } = production;
    const error = configErrorOf({ ...rest, PUBLIC_BASE_URL: 'http://ivr.example.com', API_CLIENTS: 'genesys:short', DID_LENGTH: '5' });

    expect(error.problems).toHaveLength(5);
    for (const name of ['DATA_SECRET', 'TWILIO_SMS_FROM', 'PUBLIC_BASE_URL', 'API_CLIENTS', 'DID_LENGTH']) {
      expect(error.problems.filter((p) => p.startsWith(name))).toHaveLength(1);
    }
  });
});

describe('loadConfig with secrets in files (NAME_FILE)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vl-secrets-'));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };

  it('when every secret comes from a file, then their contents are used, without their trailing newline', () => {
    const { TWILIO_AUTH_TOKEN, ADMIN_API_KEY, API_CLIENTS, TOKEN_SIGNING_KEYS, DATA_SECRET, REDIS_URL, ...rest } = production;
    const config = loadConfig({
      ...rest,
      TWILIO_AUTH_TOKEN_FILE: file('twilio', `${TWILIO_AUTH_TOKEN}\n`),
      ADMIN_API_KEY_FILE: file('admin', `${ADMIN_API_KEY}\n`),
      API_CLIENTS_FILE: file('clients', API_CLIENTS),
      TOKEN_SIGNING_KEYS_FILE: file('keys', `${TOKEN_SIGNING_KEYS}\n`),
      DATA_SECRET_FILE: file('data', `${DATA_SECRET}\r\n`),
      REDIS_URL_FILE: file('redis', `${REDIS_URL}\n`),
    });

    expect(config.twilio.authToken).toBe(TWILIO_AUTH_TOKEN);
    expect(config.adminApiKey).toBe(ADMIN_API_KEY);
    expect(config.apiClients.map((c) => c.id)).toEqual(['genesys', 'five9']);
    expect(config.tokenSigningKeys.map((k) => k.kid)).toEqual(['k1']);
    expect(config.dataSecret.toString('utf8')).toBe(DATA_SECRET);
    expect(config.store).toEqual({ kind: 'redis', url: REDIS_URL });
  });

  it('when a NAME_FILE cannot be read, then start-up names the setting and the path', () => {
    const { ADMIN_API_KEY: _a, ...rest } = production;
    const missing = join(dir, 'no-such-file');
    const error = configErrorOf({ ...rest, ADMIN_API_KEY_FILE: missing });

    expect(error.problems).toEqual([`ADMIN_API_KEY_FILE: cannot read ${missing} (ENOENT)`]);
  });

  it('when both NAME and NAME_FILE are set, then start-up refuses both, naming them', () => {
    const error = configErrorOf({ ...production, DATA_SECRET_FILE: file('data2', production.DATA_SECRET) });

    expect(error.problems).toEqual(['DATA_SECRET and DATA_SECRET_FILE: both are set; give the secret one way only']);
  });

  it('when a secret from a file is refused, then the message says it came from the file', () => {
    const { API_CLIENTS: _c, ...rest } = production;
    const error = configErrorOf({ ...rest, API_CLIENTS_FILE: file('short', 'genesys:short\n') });

    expect(error.problems).toEqual(['API_CLIENTS (from API_CLIENTS_FILE): the secret of "genesys" is shorter than 16 characters']);
  });

  it('when AUDIT_REVIEWERS comes from a file, then its reviewers are used, and a short secret there names the file', () => {
    const { AUDIT_REVIEWERS, ...rest } = production;

    expect(loadConfig({ ...rest, AUDIT_REVIEWERS_FILE: file('reviewers', `${AUDIT_REVIEWERS}\n`) }).auditReviewers.map((r) => r.name)).toEqual(['alice', 'bob.k']);
    expect(configErrorOf({ ...rest, AUDIT_REVIEWERS_FILE: file('reviewers-short', 'carol:short\n') }).problems).toEqual([
      'AUDIT_REVIEWERS (from AUDIT_REVIEWERS_FILE): the secret of "carol" is shorter than 16 characters',
    ]);
  });
});

describe('loadConfig ranges and formats', () => {
  it.each([
    ['DID_TTL_SECONDS', '29'],
    ['DID_TTL_SECONDS', '601'],
    ['DID_TTL_SECONDS', 'ninety'],
    ['DID_LENGTH', '5'],
    ['DID_LENGTH', '11'],
    ['DID_LENGTH', '6.5'],
    ['TRUST_PROXY', '-1'],
    ['TRUST_PROXY', 'true'],
    ['API_RATE_LIMIT_PER_CLIENT', '0'],
    ['API_RATE_LIMIT_PER_CALL', 'lots'],
  ])('when %s=%s, then start-up stops naming the key', (key, value) => {
    expect(configErrorOf({ [key]: value }).message).toContain(key);
  });

  it.each([
    ['DID_TTL_SECONDS', '30', { ttlSeconds: 30, length: 6 }],
    ['DID_TTL_SECONDS', '600', { ttlSeconds: 600, length: 6 }],
    ['DID_LENGTH', '6', { ttlSeconds: 90, length: 6 }],
    ['DID_LENGTH', '10', { ttlSeconds: 90, length: 10 }],
  ])('when %s=%s (a bound), then it is accepted', (key, value, did) => {
    expect(loadConfig({ [key]: value }).did).toEqual(did);
  });

  it('when TRUST_PROXY and the API rate limits are set, then they are taken as given', () => {
    const config = loadConfig({ TRUST_PROXY: '2', API_RATE_LIMIT_PER_CLIENT: '5000', API_RATE_LIMIT_PER_CALL: '40' });
    expect(config.trustProxyHops).toBe(2);
    expect(config.apiRateLimits).toEqual({ perClient: 5000, perCall: 40 });
  });

  it('when PUBLIC_BASE_URL carries a query or a fragment, then start-up stops naming it', () => {
    expect(() => loadConfig({ PUBLIC_BASE_URL: 'https://ivr.bank.test/ivr?x=1' })).toThrow(/PUBLIC_BASE_URL: must not carry a query/);
    expect(() => loadConfig({ PUBLIC_BASE_URL: 'https://ivr.bank.test/#top' })).toThrow(/PUBLIC_BASE_URL/);
  });

  it('when PUBLIC_BASE_URL carries a path prefix, then the prefix is kept and the trailing slash trimmed', () => {
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://bank.example.com/ivr/' }).publicBaseUrl).toBe(
      'https://bank.example.com/ivr',
    );
  });

  it('when PUBLIC_BASE_URL is not an http(s) URL, then start-up stops naming it', () => {
    expect(configErrorOf({ PUBLIC_BASE_URL: 'ftp://bank.example.com' }).message).toContain('PUBLIC_BASE_URL');
    expect(configErrorOf({ PUBLIC_BASE_URL: 'bank.example.com' }).message).toContain('PUBLIC_BASE_URL');
  });

  it.each([
    ['is not JSON', 'not json'],
    ['is an empty list', '[]'],
    ['holds a public key without d', JSON.stringify([{ ...signingKey, d: undefined }])],
    ['holds a key without kid', JSON.stringify([{ ...signingKey, kid: undefined }])],
    ['holds an RSA key', JSON.stringify([{ kty: 'RSA', kid: 'r1', n: 'AQAB', e: 'AQAB', d: 'AQAB' }])],
    ['holds an EC key on another curve', JSON.stringify([{ ...signingKey, crv: 'P-384' }])],
  ])('when TOKEN_SIGNING_KEYS %s, then start-up stops naming it', (_case, value) => {
    expect(configErrorOf({ TOKEN_SIGNING_KEYS: value }).message).toContain('TOKEN_SIGNING_KEYS');
  });

  it('when TOKEN_SIGNING_KEYS holds an Ed25519 key after a P-256 one, then both are kept and the first signs', () => {
    const keys = loadConfig({ TOKEN_SIGNING_KEYS: JSON.stringify([signingKey, privateJwk('k2', 'ed25519')]) }).tokenSigningKeys;

    expect(keys.map((k) => [k.kid, k.kty])).toEqual([
      ['k1', 'EC'],
      ['k2', 'OKP'],
    ]);
  });

  it('when REDIS_CLUSTER_NODES is set, then the cluster is used, even over REDIS_URL', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: 'r1:7000,10.0.0.2:7001', REDIS_URL: 'redis://single:6379' });

    expect(config.store).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'r1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
    });
  });

  it('when REDIS_SENTINELS is set with its master name, password and TLS, then the store goes through Sentinel with them', () => {
    const config = loadConfig({
      REDIS_SENTINELS: 's1:26379,s2:26380',
      REDIS_SENTINEL_NAME: 'vaultline',
      REDIS_PASSWORD: 'data-node-password',
      REDIS_SENTINEL_PASSWORD: 'sentinel-password',
      REDIS_TLS: 'true',
      REDIS_CLUSTER_NODES: 'r1:7000',
    });

    expect(config.store).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      name: 'vaultline',
      password: 'data-node-password',
      sentinelPassword: 'sentinel-password',
      tls: true,
    });
  });

  it('when REDIS_SENTINELS is set without REDIS_SENTINEL_NAME, then start-up stops naming it', () => {
    expect(configErrorOf({ REDIS_SENTINELS: 's1:26379' }).message).toMatch(/REDIS_SENTINEL_NAME/);
  });

  it('when HOST and SHUTDOWN_DRAIN_SECONDS are set, then they are the listen address and the drain; unset they are 0.0.0.0 and 5 s', () => {
    expect(loadConfig({ HOST: '127.0.0.1', SHUTDOWN_DRAIN_SECONDS: '12' })).toMatchObject({ host: '127.0.0.1', shutdownDrainSeconds: 12 });
    expect(loadConfig({})).toMatchObject({ host: '0.0.0.0', shutdownDrainSeconds: 5 });
  });

  it.each([
    ['REDIS_SENTINELS', 's1'],
    ['SHUTDOWN_DRAIN_SECONDS', '-1'],
    ['REDIS_CLUSTER_NODES', 'r1'],
    ['REDIS_CLUSTER_NODES', 'r1:7000;r2:7001'],
    ['REDIS_URL', 'http://redis:6379'],
    ['S3_FORCE_PATH_STYLE', 'yes'],
    ['FAIL_MODE', 'open'],
    ['ADMIN_API_KEY', 'short'],
    ['API_CLIENTS', 'no-secret'],
    ['DATA_SECRET', 'too-short'],
  ])('when %s=%s, then start-up stops naming the key', (key, value) => {
    expect(configErrorOf({ [key]: value }).message).toContain(key);
  });

  it('when S3 settings are given, then the statement store is S3 with path-style addressing as asked', () => {
    const config = loadConfig({
      S3_BUCKET: 'statements',
      S3_ENDPOINT: 'http://minio:9000',
      S3_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: 'true',
    });

    expect(config.statements).toEqual({
      kind: 's3',
      bucket: 'statements',
      endpoint: 'http://minio:9000',
      region: 'us-east-1',
      forcePathStyle: true,
    });
  });
});
