import type { Locale } from './types.js';

/**
 * Prompt text helpers. All speech comes from the flow's prompt tables; nothing here knows a language.
 */

const PLACEHOLDER = /\{([A-Za-z0-9_]+)\}/g;

/** Placeholders named in a prompt text: `'Your code is {code}.'` → {'code'}. */
export function placeholdersOf(text: string): Set<string> {
  return new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] ?? ''));
}

export class MissingParamError extends Error {
  override readonly name = 'MissingParamError';
  constructor(readonly param: string) {
    super(`no value for placeholder {${param}}`);
  }
}

/**
 * Fills `{name}` placeholders. A missing value throws rather than letting the caller hear "{amount}";
 * the load-time checks make this a programming error between the backend and the flow.
 */
export function renderPrompt(text: string, params: Readonly<Record<string, string>> = {}): string {
  return text.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = params[name];
    if (value === undefined) throw new MissingParamError(name);
    return value;
  });
}

/**
 * Digits spelled one by one so text-to-speech does not read "482913" as a number:
 * `spokenDigits('482913')` → `'4, 8, 2, 9, 1, 3'`; `spokenDigits('1234', ' ')` → `'1 2 3 4'`.
 * Anything that is not a digit is dropped.
 */
export function spokenDigits(digits: string, separator = ', '): string {
  return [...digits.replace(/\D/g, '')].join(separator);
}

/**
 * The flow locale for a caller: an exact (case-insensitive) match, else the same language, else the
 * flow's default (its first locale).
 */
export function pickLocale(available: readonly Locale[], wanted?: Locale): Locale {
  const fallback = available[0];
  if (fallback === undefined) throw new Error('a flow declares at least one locale');
  if (wanted === undefined) return fallback;
  const lower = wanted.toLowerCase();
  const exact = available.find((l) => l.toLowerCase() === lower);
  if (exact !== undefined) return exact;
  const language = lower.split('-')[0];
  return available.find((l) => l.toLowerCase().split('-')[0] === language) ?? fallback;
}

/**
 * A statement period for the ear and the SMS, in the locale's own words (Intl, so no language is
 * named in code): `spokenMonth('2026-10', 'en-US')` → "October 2026", `'es-US'` → "octubre de 2026".
 * Anything that is not `YYYY-MM` is returned as it is.
 */
export function spokenMonth(period: string, locale: Locale): string {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(period);
  if (!m) return period;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
  return new Intl.DateTimeFormat(locale, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(date);
}
