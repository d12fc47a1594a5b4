import { createHmac, hkdfSync } from 'node:crypto';

/**
 * DESIGN A11 tamper evidence: each event's MAC is an HMAC over the previous event's MAC in the same
 * day, the event's place (day, seq) and the event itself, keyed from DATA_SECRET. The database holds
 * MACs, never the key, so whoever can edit a row cannot make a MAC that verifies.
 */
export function macKey(dataSecret: string | Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', dataSecret, 'vaultline-audit', 'audit-trail-mac-v1', 32));
}

/** What the first event of a day chains to. */
export const genesis = (day: string) => `genesis:${day}`;

export function eventMac(key: Buffer, prevMac: string, day: string, seq: number, event: object): string {
  return createHmac('sha256', key).update(`${prevMac}\n${day}\n${seq}\n${canonicalJson(event)}`).digest('base64url');
}

/** JSON with keys sorted at every depth: the same event gives the same bytes after a jsonb round trip. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The UTC day (YYYY-MM-DD) of an ISO time. */
export const dayOf = (iso: string) => iso.slice(0, 10);
