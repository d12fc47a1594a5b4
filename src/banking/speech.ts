/**
 * Money for the caller's ear, per locale (Intl): the words around it come from the flows' catalogue.
 * The masked account and mobile numbers come from AccountNumber / MobileNumber, which never give more
 * than four.
 */

/** "1250.50" USD en-US → "$1,250.50"; other locales as Intl formats them. Never a float in between the digits. */
export function formatAmount(amount: string, currency: string, locale: string): string {
  // Intl takes a decimal string exactly (ES2023 NumberFormat v3), so 0.1 + 0.2 problems never arise.
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(amount as `${number}`);
}
