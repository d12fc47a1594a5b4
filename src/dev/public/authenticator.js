/* global indexedDB */
// The dev console's authenticator: what a real authenticator app does, in the browser.
// The private key is made non-extractable and only ever used through crypto.subtle.sign;
// IndexedDB keeps the CryptoKey object itself (structured clone), never its bytes.

const DB_NAME = 'vaultline-dev-console';
const STORE = 'devices';

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'customerId' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, run) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const req = run(t.objectStore(STORE));
      t.oncomplete = () => resolve(req.result);
      t.onerror = () => reject(t.error);
    });
  } finally {
    db.close();
  }
}

const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const b64json = (value) => b64url(new TextEncoder().encode(JSON.stringify(value)));

/**
 * The device stored for a customer, if the server still knows it (the embedded store forgets
 * devices when `npm start` restarts: then the stale record is dropped and the page offers to enroll).
 */
export async function loadDevice(customerId) {
  const record = await tx('readonly', (s) => s.get(customerId));
  if (!record) return null;
  const res = await fetch(`/dev/api/devices/${encodeURIComponent(record.deviceId)}`);
  if (res.status === 404) {
    await tx('readwrite', (s) => s.delete(customerId));
    return null;
  }
  if (!res.ok) throw new Error(`device check answered ${res.status}`);
  const device = await res.json();
  return { ...record, status: device.status };
}

/** Makes a new device key in this browser and enrolls its public half for `customerId`. */
export async function enroll(customerId) {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const publicJwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  const res = await fetch('/dev/api/devices', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customerId, publicJwk, label: 'dev console browser' }),
  });
  const body = await res.json().catch(() => ({}));
  if (res.status !== 201) throw new Error(body.message || `enrollment answered ${res.status}`);
  const record = { customerId, deviceId: body.deviceId, privateKey: pair.privateKey, createdAt: new Date().toISOString() };
  await tx('readwrite', (s) => s.put(record));
  return { ...record, status: 'active' };
}

/** Signs a `did-confirmation+jwt` for `did` (DESIGN A4) and posts it; resolves with the HTTP answer. */
export async function confirm(device, did, audience) {
  const iat = Math.floor(Date.now() / 1000);
  const header = { alg: 'ES256', typ: 'did-confirmation+jwt', kid: device.deviceId };
  const payload = { did, aud: audience, iat, exp: iat + 60, jti: crypto.randomUUID() };
  const signingInput = `${b64json(header)}.${b64json(payload)}`;
  // WebCrypto's ECDSA signature is already the raw r||s that JWS wants (RFC 7518 §3.4).
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, device.privateKey, new TextEncoder().encode(signingInput));
  const res = await fetch('/authenticator/v1/confirmations', {
    method: 'POST',
    headers: { 'content-type': 'application/jose' },
    body: `${signingInput}.${b64url(new Uint8Array(signature))}`,
  });
  return { status: res.status, body: await res.json().catch(() => ({})) };
}

/** The answer in plain words, and whether it is good news. */
export function describe(result) {
  switch (result.status) {
    case 200:
      return { ok: true, text: 'Confirmed: the call is being redirected.' };
    case 422:
      return { ok: false, text: 'That code was not recognized.' };
    case 409:
      return { ok: false, text: 'This confirmation was already used.' };
    case 429:
      return { ok: false, text: 'Too many wrong codes: this device is locked for a while.' };
    case 401:
      return { ok: false, text: 'The server refused this device or its signature. Enroll again.' };
    default:
      return { ok: false, text: `Unexpected answer (${result.status}): ${result.body.message ?? 'no details'}` };
  }
}
