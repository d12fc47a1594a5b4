/**
 * `npm run authenticator`: a reference authenticator app in the terminal (DESIGN A4).
 *
 *   npm run authenticator -- enroll <customerId>   new ES256 device key, kept in .vaultline/authenticator.json
 *                                                  (mode 0600), enrolled through the admin API
 *   npm run authenticator -- confirm <code>        signs a did-confirmation+jwt and posts it
 *
 * Options: --url (the IVR, default http://localhost:$PORT or :3000), --aud (default PUBLIC_BASE_URL or
 * http://localhost:$PORT), --file (or VAULTLINE_AUTHENTICATOR_FILE), --label.
 * ADMIN_API_KEY defaults to the development demo key, as `npm start` does.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CompactSign, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { loadConfig } from '../src/config/load.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    aud: { type: 'string' },
    file: { type: 'string' },
    label: { type: 'string', default: 'terminal authenticator' },
  },
});

const port = process.env.PORT || '3000';
const url = (values.url ?? `http://localhost:${port}`).replace(/\/+$/, '');
const file = resolve(values.file ?? process.env.VAULTLINE_AUTHENTICATOR_FILE ?? '.vaultline/authenticator.json');

interface SavedDevice {
  deviceId: string;
  customerId: string;
  audience: string;
  privateJwk: JWK;
}

class Refused extends Error {}

async function enroll(customerId: string): Promise<string> {
  // The same default as `npm start` in development; a real deployment's key comes from the environment.
  const adminKey = process.env.ADMIN_API_KEY?.trim() || loadConfig({ NODE_ENV: 'development' }).adminApiKey;
  const audience = (values.aud ?? process.env.PUBLIC_BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
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
  const audience = (values.aud ?? saved.audience).replace(/\/+$/, '');
  const iat = Math.floor(Date.now() / 1000);
  const payload = { did: did.replace(/\D/g, ''), aud: audience, iat, exp: iat + 60, jti: randomUUID() };
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ES256', typ: 'did-confirmation+jwt', kid: saved.deviceId })
    .sign(await importJWK(saved.privateJwk, 'ES256'));
  const res = await post('/authenticator/v1/confirmations', 'application/jose', jws);
  switch (res.status) {
    case 200:
      return 'Confirmed: the call is being redirected.';
    case 422:
      throw new Refused('That code was not recognized. (Wrong, expired, already used, or its call has ended.)');
    case 409:
      throw new Refused('This confirmation was already used.');
    case 429:
      throw new Refused('Too many wrong codes: this device is locked for a while.');
    case 401:
      throw new Refused(`The IVR refused this device or its signature (unknown or revoked device, or the audience is not ${audience}).`);
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
  const [command, arg] = positionals;
  if (command === 'enroll' && arg) console.log(await enroll(arg));
  else if (command === 'confirm' && arg) console.log(await confirm(arg));
  else {
    console.error('usage: npm run authenticator -- enroll <customerId> | confirm <code>  [--url URL] [--aud URL] [--file PATH]');
    return 2;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Refused ? err.message : `authenticator failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
