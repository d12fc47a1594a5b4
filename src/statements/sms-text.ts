/**
 * DESIGN A8: the statement SMS names the bank and the link, nothing else sensitive: no account
 * digits, no amount, no name (a text can be read on a locked screen).
 */
export interface StatementSmsInput {
  bankName: string;
  /** Already localised, e.g. "October 2026" or "octubre de 2026" (see `statementPeriodLabel`). */
  periodLabel: string;
  url: string;
  ttlMinutes: number;
  locale: string;
}

export function statementSmsBody(input: StatementSmsInput): string {
  const { bankName, periodLabel, url, ttlMinutes } = input;
  if (isSpanish(input.locale)) return `${bankName}: su estado de cuenta de ${periodLabel}: ${url} (un solo uso, vence en ${ttlMinutes} min)`;
  return `${bankName}: your ${periodLabel} statement: ${url} (single use, expires in ${ttlMinutes} min)`;
}

/** `2026-10` → "October 2026" (en-US), "octubre de 2026" (es-US). */
export function statementPeriodLabel(period: string, locale: string): string {
  const m = /^(\d{4})-(\d{2})$/.exec(period);
  if (!m) return period;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
  return new Intl.DateTimeFormat(isSpanish(locale) ? 'es-US' : 'en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(date);
}

/** Whole minutes the SMS can promise (rounded down, so the text never overstates the lifetime). */
export function linkTtlMinutes(ttlSeconds: number): number {
  return Math.max(1, Math.floor(ttlSeconds / 60));
}

const isSpanish = (locale: string) => /^es\b/i.test(locale);
