import { MaskedNumber } from './masked-number.js';

export { MASK } from './masked-number.js';

/**
 * An account number from the bank, opaque (see MaskedNumber). There is deliberately no way to get
 * the full account number back out: nothing downstream of the banking adapters needs it.
 */
export class AccountNumber extends MaskedNumber {
  /**
   * 8–19 digits: US deposit account numbers start at 8, card numbers (PANs) end at 19. The error
   * never repeats the input.
   */
  static parse(raw: string): AccountNumber {
    if (!/^\d{8,19}$/.test(raw)) throw new TypeError('account number must be 8 to 19 digits');
    return new AccountNumber(raw);
  }
}

/** "••••1234": the only form of an account number that may be shown, logged or sent. */
export function maskedAccount(number: AccountNumber): string {
  return number.masked();
}
