/**
 * DESIGN A8: the statement SMS names the bank and the link, nothing else sensitive: no account
 * digits, no amount, no name (a text can be read on a locked screen). Its words are the catalogue's
 * `statement.sms` prompt (src/engine/catalogue.ts); its month is `spokenMonth`.
 */

/** Whole minutes the SMS can promise (rounded down, so the text never overstates the lifetime). */
export function linkTtlMinutes(ttlSeconds: number): number {
  return Math.max(1, Math.floor(ttlSeconds / 60));
}
