import { MaskedNumber } from './masked-number.js';

/**
 * The customer's mobile on file, opaque like AccountNumber: everything but the SMS sender sees
 * "••••0101". The full E.164 value leaves only through `e164ForSms()`, so a grep finds every use.
 */
export class MobileNumber extends MaskedNumber {
  /** E.164 (ITU-T E.164: "+", country code, at most 15 digits). The error never repeats the input. */
  static parse(raw: string): MobileNumber {
    if (!/^\+[1-9]\d{6,14}$/.test(raw)) throw new TypeError('mobile number must be E.164, e.g. +14155550101');
    return new MobileNumber(raw);
  }

  /** The full number, for the SMS sender's `To` only. Never log or return it. */
  e164ForSms(): string {
    return this.unmasked();
  }
}
