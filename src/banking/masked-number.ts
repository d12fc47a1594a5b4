import { inspect } from 'node:util';
import { spokenDigits } from '../engine/prompts.js';

/** What every masked number shows before its last four. */
export const MASK = '••••';

/**
 * Opaque holder for a number a caller must never hear, read or find in a log in full (account
 * numbers, the mobile on file). The value lives in a #private field: String(), template literals,
 * JSON.stringify, util.inspect, pino and structuredClone all see only the masked form. PCI DSS
 * 3.4.1: last four only. Subclasses parse and validate; only a subclass can reach the full value,
 * and only MobileNumber does (for the SMS sender).
 */
export abstract class MaskedNumber {
  readonly #value: string;

  protected constructor(value: string) {
    this.#value = value;
  }

  /** The full value, for a subclass's one deliberate use. */
  protected unmasked(): string {
    return this.#value;
  }

  last4(): string {
    return this.#value.slice(-4);
  }

  /** "1 2 3 4", for "account ending in 1 2 3 4": each digit read on its own by a TTS voice. */
  spokenLast4(): string {
    return spokenDigits(this.last4(), ' ');
  }

  /** "••••1234" */
  masked(): string {
    // A copy made by prototype, without private fields (as redaction libraries make of logged
    // objects), renders fully masked instead of throwing from inside a logger.
    if (!(#value in this)) return MASK;
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
    return `${this.constructor.name}(${this.masked()})`;
  }
}
