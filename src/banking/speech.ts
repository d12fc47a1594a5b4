/**
 * Words for the caller's ear: money per locale (Intl) and the balance sentence. The masked account
 * and mobile numbers come from AccountNumber / MobileNumber, which never give more than four.
 */

/** "1250.50" USD en-US → "$1,250.50"; es-US → "1250.50 US$"-style per Intl. Never a float in between the digits. */
export function formatAmount(amount: string, currency: string, locale: string): string {
  // Intl takes a decimal string exactly (ES2023 NumberFormat v3), so 0.1 + 0.2 problems never arise.
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(amount as `${number}`);
}

/** DESIGN A3/issue: "For account ending in 1 2 3 4, your available balance is $1,250.50." */
export function balanceSentence(last4Spoken: string, amountSpoken: string, locale: string): string {
  return locale.toLowerCase().startsWith('es')
    ? `Para la cuenta que termina en ${last4Spoken}, su saldo disponible es ${amountSpoken}.`
    : `For account ending in ${last4Spoken}, your available balance is ${amountSpoken}.`;
}
