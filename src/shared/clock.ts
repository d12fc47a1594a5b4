import { randomBytes, randomInt } from 'node:crypto';

/** Injected so expiry and windows are tested without sleeping (STYLE habit 12). */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export interface Random {
  /** Uniform integer in [min, max). */
  int(min: number, max: number): number;
  bytes(n: number): Buffer;
}

export const systemClock: Clock = { now: () => Date.now() };

export const cryptoRandom: Random = {
  int: (min, max) => randomInt(min, max),
  bytes: (n) => randomBytes(n),
};

/** A clock tests can move by hand. */
export function manualClock(start = Date.UTC(2026, 10, 22, 12, 0, 0)): Clock & { advance(ms: number): void; set(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = ms;
    },
  };
}
