/**
 * B4 layer two: scrubs sensitive values out of any string before it is logged. Layer one (pino
 * `redact` paths for fields known to be sensitive whatever their value) lives in `logger.ts`; this
 * layer catches the same values when they travel inside free text: a message, an error text, a URL.
 *
 * It runs on every string of every log line, so: every regex is compiled once, strings that cannot
 * hold anything sensitive leave after one cheap test, and everything shaped by digits is handled in
 * a single left-to-right pass (below) rather than one pass per rule.
 *
 * The rules, in the order they apply, and why each exists:
 *
 * 1. CR, LF, U+2028/U+2029, NEL → one space. pino JSON-escapes control characters anyway; folding
 *    them here also keeps the value on one visual line for tools that print or unescape it, so a
 *    `Digits` or an error text carrying `\n{"level":30,…}` can never look like a line of its own.
 * 2. Known secrets (the Twilio auth token, the admin key, API client secrets, anything else passed to
 *    `createScrubber`) → `[redacted]`. By value, because no shape identifies them. Applied before the
 *    shape rules so that a rule cannot half-rewrite a secret into something no longer recognised.
 * 3. Presigned query parameters (`X-Amz-*`, `X-Goog-*`, `Signature`, `sig`, `exp`, `Expires`,
 *    `AWSAccessKeyId`, `Policy`, `Key-Pair-Id`, `token`, `access_token`; also URL-encoded inside
 *    another URL) → `name=[redacted]`: a presigned URL is a bearer credential for a statement PDF.
 *
 * Then one pass over the string, where the leftmost match wins and, at one position, the first rule
 * listed wins:
 *
 * 4. JWT/JWS/JWE compact forms (`eyJ…` with 3 to 5 dot-separated parts, empty payload included, so
 *    detached JWS too) and bare base64url JSON (`eyJ` + 16 or more characters) → `[jwt]`: call-bound
 *    tokens and device confirmations are bearer proofs; their payload names the customer and call.
 * 5. `/s/<token>` (also `%2Fs%2F`) → `/s/[link]`: a statement link token spends a statement download.
 * 6. Values that look like numbers but identify nothing secret pass through whole, and are consumed
 *    so that the digit rules below never see their digits (compliance greps logs by these, and
 *    reads the times): ISO 8601 dates and times; Twilio SIDs (two letters + 32 hex: CallSid,
 *    AccountSid, MessageSid…); UUIDs; our own `ses_…` and `dev_…` ids (base64url, may hold
 *    digit runs between `-`/`_`); decimals with up to 11 integer digits (amounts like `1250.50`,
 *    durations like `0.25`); percent-escapes (`%20` is not the digits `20`).
 * 7. E.164 phone numbers (`+14155550101`, `+1 415 555 0101`, `%2B14155550101`) → `+…0101`: the
 *    last four is what the design allows for a phone number; the `+` marks it as a phone number.
 * 8. North American formatted numbers (`(415) 555-0101`, `415.555.0101`, `415 555 0101`) → `[digits]`,
 *    as the same ten digits written as one run would be (rule 10): a phone number without `+`.
 * 9. Spoken codes: 6 or more single digits separated by `, `, `,` or ` ` (how the IVR reads a DID to
 *    the caller, "1, 2, 3, 4, 5, 6") → `[digits]`.
 * 10. Digit runs that are not glued to a letter or digit (DIDs, OTPs, account and card numbers,
 *    phone numbers without `+`), alone or in groups joined by single spaces or hyphens:
 *    - 12 or more digits in all (card numbers, contiguous or 4-4-4-4, long account numbers) → `…1234`,
 *      the last four only: the design's allowance for an account number. Payment card numbers
 *      are 12–19 digits, so every Luhn-valid one is caught here without computing the checksum;
 *    - one run of 6 to 11 digits, or 3 or more groups totalling 6 to 11 → `[digits]`, nothing kept:
 *      four digits of a six-digit one-time code is most of the code;
 *    - otherwise (two short groups, like `200 1234` or `1000-2000`) each group on its own.
 *    Shorter runs (ports, status codes, counts, the last four itself) pass.
 *    `_` is not glue: `acct_4000123412349876` → `acct_…9876` (our own ids are kept by rule 6).
 * 11. A Luhn-valid run of 13–19 digits glued to letters (`PAN4111111111111111`) → `…1111` as well:
 *    a card number is worth the rare false positive in a hex string; a run that fails the
 *    checksum is left alone there.
 */

const SPACES = /[\r\n\u0085\u2028\u2029]+/g;

/** Worth a full look: digits, a JWT, a link, a query string (encoded or not), a percent-escape. */
const WORTH_A_LOOK = /[0-9?&%]|eyJ|\/s\//;
const QUERY = /[?&]|%3F|%26/i;

// Rule 3. The value runs to the next `&`, `#`, quote or space, or to an encoded `&` (`%26`).
const PRESIGNED =
  /([?&]|%3F|%26)(X-Amz-[A-Za-z-]+|X-Goog-[A-Za-z-]+|Signature|sig|exp|Expires|AWSAccessKeyId|Policy|Key-Pair-Id|token|access_token)(=|%3D)(?:[^&#%\s"'<>]|%(?!26)[0-9A-Fa-f]{2})*/gi;

/** Not glued on the left to a letter or digit; a percent-escape (`%20`) counts as a separator. */
const FREE_LEFT = String.raw`(?:(?<![A-Za-z0-9])|(?<=%[0-9A-Fa-f]{2}))`;
const FREE_RIGHT = String.raw`(?![A-Za-z0-9])`;
const B64 = '[A-Za-z0-9_-]';
const ISO_DATE = String.raw`\d{4}-\d{2}-\d{2}`;

const PASS = [
  // Rule 4.
  String.raw`(?<jwt>eyJ${B64}{5,}(?:\.${B64}*){2,4}|(?<!${B64})eyJ${B64}{16,}(?:\.${B64}*)?)`,
  // Rule 5.
  String.raw`(?<link>(?:\/|%2[Ff])s(?:\/|%2[Ff]))${B64}+`,
  // Rule 7 (tried before rule 6: `%2B` is a `+`, not a percent-escape to keep).
  String.raw`(?<plus>\+|%2[Bb])(?<e164>\d(?:[ ().-]{0,2}\d){6,14})(?!\d)`,
  // Rule 6: kept as they are.
  String.raw`(?<keep>(?<!\d)${ISO_DATE}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?(?!\d)` +
    String.raw`|(?<![A-Za-z0-9])[A-Z]{2}[0-9a-fA-F]{32}${FREE_RIGHT}` +
    String.raw`|(?<![A-Za-z0-9])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}${FREE_RIGHT}` +
    String.raw`|(?<!${B64})(?:ses|dev)_${B64}{8,}` +
    // A NANP number written with dots is not a decimal: leave it to rule 8.
    String.raw`|(?<![\d.])(?!\d{3}\.\d{3}\.\d{4}(?![\d.]))\d{1,11}\.\d{1,6}(?![\d.])` +
    String.raw`|%[0-9A-Fa-f]{2})`,
  // Rule 8.
  String.raw`(?<nanp>${FREE_LEFT}(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}${FREE_RIGHT})`,
  // Rule 9.
  String.raw`(?<spoken>${FREE_LEFT}\d(?:,? \d|,\d){5,}${FREE_RIGHT})`,
  // Rule 10: a cluster of runs joined by single spaces or hyphens, never running into a date.
  String.raw`(?<run>${FREE_LEFT}\d+(?:[ -](?!${ISO_DATE}(?!\d))\d+)*${FREE_RIGHT})`,
  // Rule 11.
  String.raw`(?<glued>(?<!\d)\d{13,19}(?!\d))`,
];
const ONE_PASS = new RegExp(PASS.join('|'), 'g');

type Groups = Partial<Record<'jwt' | 'link' | 'keep' | 'plus' | 'e164' | 'nanp' | 'spoken' | 'run' | 'glued', string>>;

const DIGITS_ONLY = /\D/g;
const lastFour = (digits: string) => `…${digits.replace(DIGITS_ONLY, '').slice(-4)}`;

/** Rule 10 for one cluster of digit runs (`4000 1234 1234 9876`, `123456`, `200 1234`). */
function scrubRun(cluster: string): string {
  const total = cluster.replace(DIGITS_ONLY, '').length;
  if (total < 6) return cluster;
  if (total >= 12) return lastFour(cluster);
  const groups = cluster.split(/[ -]/);
  if (groups.length === 1 || groups.length >= 3) return '[digits]';
  // Two short groups (a status and a size, a range): judge each on its own.
  return cluster.replace(/\d+/g, (g) => (g.length >= 12 ? lastFour(g) : g.length >= 6 ? '[digits]' : g));
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double && (d *= 2) > 9) d -= 9;
    sum += d;
  }
  return sum % 10 === 0;
}

function replaceMatch(match: string, ...rest: unknown[]): string {
  const g = rest[rest.length - 1] as Groups;
  if (g.keep !== undefined) return match;
  if (g.jwt !== undefined) return '[jwt]';
  if (g.link !== undefined) return `${g.link}[link]`;
  if (g.e164 !== undefined) return `${g.plus ?? '+'}…${g.e164.replace(DIGITS_ONLY, '').slice(-4)}`;
  if (g.nanp !== undefined || g.spoken !== undefined) return '[digits]';
  if (g.run !== undefined) return scrubRun(match);
  if (g.glued !== undefined) return luhnValid(match) ? lastFour(match) : match;
  return match;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A scrubber for one process. `knownSecrets` are replaced wherever they appear (values shorter than
 * 6 characters are ignored: they would match by accident). Account numbers from the bank can be
 * passed here too; the digit rules catch them anyway when they stand alone.
 */
export function createScrubber(knownSecrets: readonly (string | undefined | null)[] = []): (input: string) => string {
  const known = [...new Set(knownSecrets.filter((s): s is string => typeof s === 'string' && s.length >= 6))].sort((a, b) => b.length - a.length);
  const knownRe = known.length > 0 ? new RegExp(known.map(escapeRegExp).join('|'), 'g') : undefined;

  return function scrub(input: string): string {
    let s = input;
    // Rule 1.
    if (s.includes('\n') || s.includes('\r') || s.includes('\u2028') || s.includes('\u2029') || s.includes('\u0085')) s = s.replace(SPACES, ' ');
    // Rule 2.
    if (knownRe) s = s.replace(knownRe, '[redacted]');
    if (!WORTH_A_LOOK.test(s)) return s;
    // Rule 3.
    if (QUERY.test(s)) s = s.replace(PRESIGNED, '$1$2$3[redacted]');
    // Rules 4 to 11.
    return s.replace(ONE_PASS, replaceMatch);
  };
}
