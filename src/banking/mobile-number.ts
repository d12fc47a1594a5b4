import { inspect } from 'node:util';
import { MASK, spokenDigits } from './account-number.js';

/**
 * The customer's mobile on file, opaque like AccountNumber: everything but the SMS sender sees
 * "••••0101". The full E.164 value leaves only through `e164ForSms()`, so a grep finds every use.
 */
export class MobileNumber {
  readonly #e164: string;

  private constructor(e164: string) {
    this.#e164 = e164;
  }

  /** E.164 (ITU-T E.164: "+", country code, at most 15 digits). The error never repeats the input. */
  static parse(raw: string): MobileNumber {
    if (!/^\+[1-9]\d{6,14}$/.test(raw)) throw new TypeError('mobile number must be E.164, e.g. +14155550101');
    return new MobileNumber(raw);
  }

  last4(): string {
    return this.#e164.slice(-4);
  }

  /** "0 1 0 1", for "your mobile ending in 0 1 0 1". */
  spokenLast4(): string {
    return spokenDigits(this.last4());
  }

  /** "••••0101" */
  masked(): string {
    // pino's wildcard redaction copies logged objects by prototype, without private fields: such a
    // copy renders fully masked instead of throwing from inside the logger.
    if (!(#e164 in this)) return MASK;
    return MASK + this.last4();
  }

  /** The full number, for the SMS sender's `To` only. Never log or return it. */
  e164ForSms(): string {
    return this.#e164;
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
    return `MobileNumber(${this.masked()})`;
  }
}
