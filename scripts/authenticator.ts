/**
 * `npm run authenticator`: a reference authenticator app in the terminal (DESIGN A4).
 *
 *   npm run authenticator -- enroll <customerId>   new ES256 device key, kept in .vaultline/authenticator.json
 *                                                  (mode 0600), enrolled through the admin API
 *   npm run authenticator -- confirm <code>        signs a did-confirmation+jwt and posts it
 *
 * Options: --url (the IVR, default http://localhost:$PORT or :3000), --aud (the audience signed for:
 * default --url when given, else PUBLIC_BASE_URL, else the one saved at enrollment), --file (or
 * VAULTLINE_AUTHENTICATOR_FILE), --label, --help.
 * ADMIN_API_KEY defaults to the development demo key, as `npm start` does.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CompactSign, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { loadConfig } from '../src/config/load.js';

const USAGE = `usage: npm run authenticator -- enroll <customerId> [options]
       npm run authenticator -- confirm <code> [options]

enroll   makes an ES256 device key, keeps it in the file (mode 0600) and enrolls it via /admin/v1
         (ADMIN_API_KEY from the environment, else the development demo key)
confirm  signs a did-confirmation+jwt for the code and posts it to /authenticator/v1/confirmations

Options:
  --url URL    the IVR (default http://localhost:$PORT, or :3000)
  --aud URL    the audience to sign for: the IVR's PUBLIC_BASE_URL (default: --url when given,
               else PUBLIC_BASE_URL, else the one saved at enrollment)
  --file PATH  the device file (default VAULTLINE_AUTHENTICATOR_FILE or .vaultline/authenticator.json)
  --label TEXT the device label at enrollment (default "terminal authenticator")
  -h, --help   this text`;

class Refused extends Error {}

type Options = { url?: string; aud?: string; file?: string; label: string; help?: boolean };

function parse(argv: string[]): { values: Options; positionals: string[] } {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        aud: { type: 'string' },
        file: { type: 'string' },
        label: { type: 'string', default: 'terminal authenticator' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new Refused(`${err instanceof Error ? err.message : String(err)} (see --help)`);
  }
}

const { values, positionals } = (() => {
  try {
    return parse(process.argv.slice(2));
  } catch (err) {
    console.error(`authenticator: ${(err as Error).message}`);
    process.exit(2);
  }
})();

const port = process.env.PORT || '3000';
const url = (values.url ?? `http://localhost:${port}`).replace(/\/+$/, '');
const file = resolve(values.file ?? process.env.VAULTLINE_AUTHENTICATOR_FILE ?? '.vaultline/authenticator.json');
const trim = (u: string) => u.replace(/\/+$/, '');
/** The audience a confirmation is signed for: what the IVR checks `aud` against (its PUBLIC_BASE_URL). */
const audienceFor = (saved?: string) => trim(values.aud ?? values.url ?? process.env.PUBLIC_BASE_URL ?? saved ?? `http://localhost:${port}`);

interface SavedDevice {
  deviceId: string;
  customerId: string;
  audience: string;
  privateJwk: JWK;
}

async function enroll(customerId: string): Promise<string> {
  // The same default as `npm start` in development; a real deployment's key comes from the environment.
  const adminKey = process.env.ADMIN_API_KEY?.trim() || loadConfig({ NODE_ENV: 'development' }).adminApiKey;
  const audience = audienceFor();
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const res = await post('/admin/v1/devices', 'application/json', JSON.stringify({ customerId, publicJwk: await exportJWK(publicKey), label: values.label }), {
    authorization: `Bearer ${adminKey}`,
  });
  if (res.status === 401) throw new Refused('The admin API refused the key: set ADMIN_API_KEY to the IVR\'s admin key.');
  if (res.status !== 201) throw new Refused(`Enrollment failed (${res.status}): ${res.body.message ?? 'no details'}`);
  const saved: SavedDevice = { deviceId: String(res.body.deviceId), customerId, audience, privateJwk: await exportJWK(privateKey) };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // The private key: readable by this user only, also when the file was already there.
  writeFileSync(file, JSON.stringify(saved, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return `Enrolled: device ${saved.deviceId} for ${customerId}. Its key is in ${file} (readable by you only).`;
}

async function confirm(did: string): Promise<string> {
  let saved: SavedDevice;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as SavedDevice;
  } catch {
    throw new Refused(`No device here yet (${file}): run \`npm run authenticator -- enroll <customerId>\` first.`);
  }
  const audience = audienceFor(saved.audience);
  const iat = Math.floor(Date.now() / 1000);
  const payload = { did: did.replace(/\D/g, ''), aud: audience, iat, exp: iat + 60, jti: randomUUID() };
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ES256', typ: 'did-confirmation+jwt', kid: saved.deviceId })
    .sign(await importJWK(saved.privateJwk, 'ES256'));
  const res = await post('/authenticator/v1/confirmations', 'application/jose', jws);
  switch (res.status) {
    case 200:
      // LATE_CONFIRMATION_POLICY=recently-verified: the call had just ended; an agent of the call-back sees it.
      if ((res.body as { status?: unknown }).status === 'recently_verified') return 'Confirmed after the call ended: it is marked recently verified for 10 minutes.';
      return 'Confirmed: the call is being redirected.';
    case 422:
      throw new Refused('That code was not recognized. (Wrong, expired, already used, or its call has ended.)');
    case 409:
      throw new Refused('This confirmation was already used.');
    case 429:
      throw new Refused('Too many wrong codes: this device is locked for a while.');
    case 401:
      throw new Refused(`The IVR refused this device or its signature: an unknown or revoked device, or its PUBLIC_BASE_URL is not ${audience} (set it with --aud).`);
    default:
      throw new Refused(`Unexpected answer (${res.status}): ${res.body.message ?? 'no details'}`);
  }
}

async function post(path: string, type: string, body: string, headers: Record<string, string> = {}) {
  let res: Response;
  try {
    res = await fetch(url + path, { method: 'POST', headers: { 'content-type': type, ...headers }, body });
  } catch {
    throw new Refused(`Cannot reach the IVR at ${url}: is \`npm start\` running? (use --url to point elsewhere)`);
  }
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> & { message?: string } };
}

async function main(): Promise<number> {
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command, arg] = positionals;
  if (command === 'enroll' && arg) console.log(await enroll(arg));
  else if (command === 'confirm' && arg) console.log(await confirm(arg));
  else {
    console.error(USAGE);
    return 2;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // One line, never a stack trace.
    console.error(err instanceof Refused ? err.message : `authenticator failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
