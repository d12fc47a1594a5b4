import { inspect } from 'node:util';

/**
 * Opaque wrappers for the two numbers a caller must never hear, read or find in a log in full.
 * The digits live in a #private field: String(), template literals, JSON.stringify, util.inspect,
 * pino and structuredClone all see only the masked form. PCI DSS 3.4.1: last four only.
 *
 * There is deliberately no way to get the full account number back out: nothing downstream of the
 * banking adapters needs it.
 */
export const MASK = '••••';

/** "1234" → "1 2 3 4": each digit read on its own by a TTS voice, not as "one thousand…". */
export function spokenDigits(digits: string): string {
  return [...digits].join(' ');
}

export class AccountNumber {
  readonly #digits: string;

  private constructor(digits: string) {
    this.#digits = digits;
  }

  /**
   * 8–19 digits: US deposit account numbers start at 8, card numbers (PANs) end at 19. The error
   * never repeats the input.
   */
  static parse(raw: string): AccountNumber {
    if (!/^\d{8,19}$/.test(raw)) throw new TypeError('account number must be 8 to 19 digits');
    return new AccountNumber(raw);
  }

  last4(): string {
    return this.#digits.slice(-4);
  }

  /** "1 2 3 4", for "account ending in 1 2 3 4". */
  spokenLast4(): string {
    return spokenDigits(this.last4());
  }

  /** "••••1234" */
  masked(): string {
    // pino's wildcard redaction copies logged objects by prototype, without private fields: such a
    // copy renders fully masked instead of throwing from inside the logger.
    if (!(#digits in this)) return MASK;
    return MASK + this.last4();
  }

  toString(): string {
    return this.masked();
  }

  toJSON(): string {
    return this.masked();
  }

  [Symbol.toPrimitive](): string {
    return this.masked();
  }

  [inspect.custom](): string {
    return `AccountNumber(${this.masked()})`;
  }
}

/** "••••1234": the only form of an account number that may be shown, logged or sent. */
export function maskedAccount(number: AccountNumber): string {
  return number.masked();
}
