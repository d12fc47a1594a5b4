/**
 * `npm run keygen`: a complete, fresh set of production secrets as `.env` lines (README → Production).
 *
 *   npm run keygen                                  every secret, new
 *   npm run keygen -- --rotate ['[…current JWKs…]'] TOKEN_SIGNING_KEYS with a new key in front
 *                                                   (current keys from the argument, TOKEN_SIGNING_KEYS
 *                                                   or TOKEN_SIGNING_KEYS_FILE)
 *
 * Every value comes from node:crypto (random bytes) or jose (the ES256 key pair): never Math.random.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair } from 'jose';
import { resolveSecretFiles } from '../src/config/secrets.js';

const USAGE = `usage: npm run keygen -- [--client-id ID] [--reviewer NAME] [--kid KID]
       npm run keygen -- --rotate [TOKEN_SIGNING_KEYS]

Prints fresh secrets as .env lines: TOKEN_SIGNING_KEYS (one ES256 private JWK with its kid),
DATA_SECRET, ADMIN_API_KEY, one API_CLIENTS credential and one AUDIT_REVIEWERS credential.
--rotate prints TOKEN_SIGNING_KEYS with a new key in front of the current ones (given as the
argument, or read from TOKEN_SIGNING_KEYS / TOKEN_SIGNING_KEYS_FILE): the new key signs, the old
ones still verify the tokens they signed; drop an old key once no call it signed for is live.

Options:
  --client-id ID   the API_CLIENTS id (default contact-centre)
  --reviewer NAME  the AUDIT_REVIEWERS name (default reviewer)
  --kid KID        the new signing key's id (default: today's date and 4 random hex digits)
  -h, --help       this text`;

class Refused extends Error {}

/** A secret of `bytes` random bytes, base64url: 24 bytes = 32 characters, twice the shortest accepted. */
const secret = (bytes = 24) => randomBytes(bytes).toString('base64url');

const ID = /^[A-Za-z0-9._-]+$/;

async function newSigningKey(kid: string): Promise<Record<string, unknown>> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, alg: 'ES256', use: 'sig', ...(await exportJWK(privateKey)) };
}

/** Single quotes keep the JSON one value in a .env file, in compose's env_file and in a shell. */
const envLine = (name: string, value: string) => (/^[A-Za-z0-9._:,+/=-]+$/.test(value) ? `${name}=${value}` : `${name}='${value}'`);

function currentKeys(given: string | undefined): unknown[] {
  const raw = given ?? resolveSecretFiles(process.env).values.TOKEN_SIGNING_KEYS;
  if (raw === undefined || raw.trim() === '') throw new Refused('--rotate needs the current keys: pass them as the argument or set TOKEN_SIGNING_KEYS (or TOKEN_SIGNING_KEYS_FILE).');
  let keys: unknown;
  try {
    keys = JSON.parse(raw);
  } catch {
    throw new Refused('the current TOKEN_SIGNING_KEYS is not JSON: it must be a JSON array of private JWKs.');
  }
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'object' && k !== null && typeof (k as { kid?: unknown }).kid === 'string')) {
    throw new Refused('the current TOKEN_SIGNING_KEYS must be a non-empty JSON array of JWKs, each with a "kid".');
  }
  return keys;
}

async function main(argv: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rotate: { type: 'boolean' },
      'client-id': { type: 'string', default: 'contact-centre' },
      reviewer: { type: 'string', default: 'reviewer' },
      kid: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return USAGE;
  const kid = values.kid ?? `${new Date().toISOString().slice(0, 10)}-${randomBytes(2).toString('hex')}`;
  for (const [option, value] of [['--kid', kid], ['--client-id', values['client-id']], ['--reviewer', values.reviewer]] as const) {
    if (!ID.test(value)) throw new Refused(`${option} may hold letters, digits, ".", "_" and "-" only.`);
  }

  if (values.rotate) {
    if (positionals.length > 1) throw new Refused('--rotate takes at most one argument: the current TOKEN_SIGNING_KEYS.');
    const keys = currentKeys(positionals[0]);
    if (keys.some((k) => (k as { kid: string }).kid === kid)) throw new Refused(`kid "${kid}" is already in TOKEN_SIGNING_KEYS: pick another with --kid.`);
    return [
      `# TOKEN_SIGNING_KEYS rotated ${new Date().toISOString()}: "${kid}" signs from now on, the ${keys.length} key(s) after it still verify.`,
      envLine('TOKEN_SIGNING_KEYS', JSON.stringify([await newSigningKey(kid), ...keys])),
    ].join('\n');
  }
  if (positionals.length > 0) throw new Refused(`unexpected argument "${positionals[0]}" (see --help).`);

  return [
    `# Vaultline IVR secrets, generated ${new Date().toISOString()} by npm run keygen.`,
    '# Paste into .env or your secret store; never commit them. Each secret may also be a file: NAME_FILE=/path.',
    envLine('TOKEN_SIGNING_KEYS', JSON.stringify([await newSigningKey(kid)])),
    envLine('DATA_SECRET', secret(32)),
    envLine('ADMIN_API_KEY', secret()),
    envLine('API_CLIENTS', `${values['client-id']}:${secret()}`),
    envLine('AUDIT_REVIEWERS', `${values.reviewer}:${secret()}`),
  ].join('\n');
}

main(process.argv.slice(2)).then(
  (text) => {
    console.log(text);
    process.exit(0);
  },
  (err: unknown) => {
    // One line, never a stack: a refusal says what to do, anything else says what failed.
    const message = err instanceof Refused ? err.message : err instanceof Error ? err.message : String(err);
    console.error(`keygen: ${message}`);
    process.exit(err instanceof Refused || (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) ? 2 : 1);
  },
);
