/**
 * What NODE_ENV=production demands beyond the schema (DESIGN A2 "Production"): settings that have
 * a demo value or a derivation in development must be given, and secrets must be long enough.
 * Each check reads the raw (already file-resolved) values, so one start-up names every problem.
 */

/** A setting production requires; an entry of several names is satisfied by any one of them. Adding one: one line. */
export const REQUIRED_IN_PRODUCTION: readonly (readonly string[])[] = [
  ['PUBLIC_BASE_URL'],
  ['DATA_SECRET'],
  ['TWILIO_ACCOUNT_SID'],
  ['TWILIO_AUTH_TOKEN'],
  ['TWILIO_SMS_FROM'],
  ['ADMIN_API_KEY'],
  ['API_CLIENTS'],
  ['TOKEN_SIGNING_KEYS'],
  ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'],
  ['BANK_DATA_FILE', 'BANKING_API_URL'],
  ['STATEMENTS_DIR', 'S3_BUCKET'],
  ['AUDIT_DATABASE_URL'],
  ['AUDIT_REVIEWERS'],
];

/** Shortest secret production accepts: 16 characters is 96 bits of base64url, beyond online guessing. */
export const MIN_SECRET_LENGTH = 16;

/** `id:secret,…` lists whose secrets production measures (the ids are not secret and may be named). */
const CREDENTIAL_LISTS: readonly string[] = ['API_CLIENTS'];

const given = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/** One line per missing or refused setting; `label` names where a value came from (NAME or NAME_FILE). */
export function productionProblems(
  values: Record<string, string | undefined>,
  label: (name: string) => string,
  /** Settings whose NAME_FILE was named as unreadable already: not "required" a second time. */
  unreadable: ReadonlySet<string> = new Set(),
): string[] {
  const problems: string[] = [];
  for (const names of REQUIRED_IN_PRODUCTION) {
    if (!names.some((n) => given(values[n]) || unreadable.has(n))) problems.push(`${names.join(' or ')}: required in production`);
  }
  const base = values.PUBLIC_BASE_URL;
  // Twilio signs the https URL it calls; a plain-http base would mean webhooks and links in clear.
  if (given(base) && !/^https:\/\//i.test(base.trim())) problems.push('PUBLIC_BASE_URL: must be an https:// URL in production');
  // ADMIN_API_KEY's and AUDIT_REVIEWERS' 16 characters are checked by the schema, in every environment.
  for (const name of CREDENTIAL_LISTS) {
    const v = values[name];
    if (!given(v)) continue;
    for (const pair of v.trim().split(',')) {
      const i = pair.indexOf(':');
      if (i <= 0) continue; // the schema names a malformed list
      if (pair.length - i - 1 < MIN_SECRET_LENGTH) {
        problems.push(`${label(name)}: the secret of "${pair.slice(0, i)}" is shorter than ${MIN_SECRET_LENGTH} characters`);
      }
    }
  }
  return problems;
}
