import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cryptoRandom } from '../src/shared/clock.js';
import type { Store } from '../src/store/client.js';
import { createKeys, ttl } from '../src/store/keys.js';
import { createLockout, WRONG_CODE_LIMIT, WRONG_CODE_WINDOW_SECONDS, type Lockout, type LockoutSubject } from '../src/verification/lockout.js';
import { freshPrefix } from './support/prefix.js';
import { STORE_KINDS, allKeys, openStore } from './support/store.js';

describe.each(STORE_KINDS)('the wrong-code limit on the %s store', (kind) => {
  let store: Store;
  let prefix: string;
  let lockout: Lockout;

  beforeAll(async () => {
    store = await openStore(kind);
  });
  afterAll(async () => {
    await store.close();
  });
  beforeEach(() => {
    prefix = freshPrefix('lock');
    lockout = createLockout({ redis: store.redis, keys: createKeys(prefix), random: cryptoRandom });
  });

  const adaPhone: LockoutSubject = { deviceId: 'dev_phone', customerId: 'cust_ada' };
  const adaTablet: LockoutSubject = { deviceId: 'dev_tablet', customerId: 'cust_ada' };
  const adaWatch: LockoutSubject = { deviceId: 'dev_watch', customerId: 'cust_ada' };
  const grace: LockoutSubject = { deviceId: 'dev_grace', customerId: 'cust_grace' };

  let codeCounter = 0;
  const freshCode = () => `code-hash-${++codeCounter}`;
  const admit = (s: LockoutSubject, didHash = freshCode(), jti: string = randomUUID()) => lockout.admit({ ...s, jti, didHash });

  /** Admits and settles `n` wrong codes one after the other; the kinds of answer, in order. */
  async function wrongCodes(subject: LockoutSubject, n: number): Promise<string[]> {
    const kinds: string[] = [];
    for (let i = 0; i < n; i++) {
      const gate = await admit(subject);
      if (gate.kind !== 'admitted') kinds.push(gate.kind);
      else {
        const s = await lockout.settle(gate.ticket, 'wrong');
        kinds.push(s.kind === 'counted' && s.nowLocked ? 'counted+locked' : s.kind);
      }
    }
    return kinds;
  }

  it('when a device sends 10 wrong codes, then the 10th reaches the limit and the 11th is locked for the 15-minute window', async () => {
    expect(await wrongCodes(adaPhone, WRONG_CODE_LIMIT)).toEqual([...Array(WRONG_CODE_LIMIT - 1).fill('counted'), 'counted+locked']);
    const gate = await admit(adaPhone);
    expect(gate.kind).toBe('locked');
    if (gate.kind !== 'locked') return;
    expect(gate.retryAfterSeconds).toBeGreaterThan(WRONG_CODE_WINDOW_SECONDS - 5);
    expect(gate.retryAfterSeconds).toBeLessThanOrEqual(WRONG_CODE_WINDOW_SECONDS);
  });

  it('when one customer spreads 10 wrong codes over two devices, then every device of that customer is locked, and only that customer', async () => {
    await wrongCodes(adaPhone, 5);
    expect((await wrongCodes(adaTablet, 5)).at(-1)).toBe('counted+locked');
    expect((await admit(adaWatch)).kind).toBe('locked');
    expect((await admit(grace)).kind).toBe('admitted');
  });

  it('when confirmations succeed, then their reserved points are given back and only wrong codes count', async () => {
    await wrongCodes(adaPhone, WRONG_CODE_LIMIT - 1);
    for (let i = 0; i < 5; i++) {
      const gate = await admit(adaPhone);
      if (gate.kind !== 'admitted') throw new Error(`expected admitted, got ${gate.kind}`);
      expect(await lockout.settle(gate.ticket, 'confirmed')).toEqual({ kind: 'released' });
    }
    expect(await wrongCodes(adaPhone, 2)).toEqual(['counted+locked', 'locked']);
  });

  it('when 100 different codes arrive at once from one device, then only 10 are admitted and 90 are locked before any code is looked at', async () => {
    const gates = await Promise.all(Array.from({ length: 100 }, () => admit(adaPhone)));
    expect(gates.filter((g) => g.kind === 'admitted')).toHaveLength(WRONG_CODE_LIMIT);
    expect(gates.filter((g) => g.kind === 'locked')).toHaveLength(100 - WRONG_CODE_LIMIT);
  });

  it('when 100 copies of one wrong code arrive at once, then one holds a point, the riders are charged after, and 10 are counted in all', async () => {
    const code = freshCode();
    const gates = await Promise.all(Array.from({ length: 100 }, () => admit(adaPhone, code)));
    const tickets = gates.flatMap((g) => (g.kind === 'admitted' ? [g.ticket] : []));
    expect(tickets.filter((t) => t.role === 'reserved')).toHaveLength(1);
    const settled = await Promise.all(tickets.map((t) => lockout.settle(t, 'wrong')));
    expect(settled.filter((s) => s.kind === 'counted')).toHaveLength(WRONG_CODE_LIMIT);
    expect(settled.filter((s) => s.kind === 'locked').length + gates.filter((g) => g.kind === 'locked').length).toBe(100 - WRONG_CODE_LIMIT);
  });

  it('when a device confirmed a code, then that device submitting it again is a double submit (not counted), another device is not', async () => {
    const code = freshCode();
    const winner = await admit(adaPhone, code);
    const loser = await admit(adaPhone, code);
    if (winner.kind !== 'admitted' || loser.kind !== 'admitted') throw new Error('expected both admitted');
    await lockout.settle(winner.ticket, 'confirmed');
    // A loser whose code was already spent when it looked is still the same device's double submit.
    expect(await lockout.settle(loser.ticket, 'wrong')).toEqual({ kind: 'released' });
    expect((await admit(adaPhone, code)).kind).toBe('double_submit');
    expect((await admit(adaTablet, code)).kind).toBe('admitted');
    // Nothing was counted for the phone's double submits; the tablet's guess holds one point of the customer's.
    expect(await wrongCodes(adaPhone, WRONG_CODE_LIMIT - 1)).toEqual([...Array(WRONG_CODE_LIMIT - 2).fill('counted'), 'counted+locked']);
  });

  it('when a device uses a jti twice, then the second is replayed and takes no point; the same jti from another device is its own', async () => {
    const first = await admit(adaPhone, freshCode(), 'jti-1');
    expect(first.kind).toBe('admitted');
    expect((await admit(adaPhone, freshCode(), 'jti-1')).kind).toBe('replayed');
    expect((await admit(adaTablet, freshCode(), 'jti-1')).kind).toBe('admitted');
    // Two reserved points (phone, tablet) count against the customer, the replay none: 8 more fit.
    expect((await wrongCodes(adaWatch, WRONG_CODE_LIMIT - 2)).at(-1)).toBe('counted+locked');
  });

  it('when a jti is used, then it is remembered longer than a confirmation can be accepted on any instance, and not forever', async () => {
    await admit(adaPhone, freshCode(), 'jti-ttl');
    const [key] = await allKeys(store, `${prefix}w:*:jti:*`);
    if (!key) throw new Error('no jti key');
    expect(key).not.toContain('jti-ttl');
    const pttl = await store.redis.pttl(key);
    // 120 s lifetime + 30 s JWS tolerance + 30 s instance skew.
    expect(pttl).toBeGreaterThan((120 + 30 + 30) * 1000);
    expect(pttl).toBeLessThanOrEqual(ttl.jtiMs);
  });

  it('when the counters are read from the store, then a device and its customer live under one hash tag (one Cluster slot)', async () => {
    await wrongCodes(adaPhone, 1);
    const counters = await allKeys(store, `${prefix}w:*:count`);
    expect(counters).toHaveLength(2);
    const tags = new Set(counters.map((k) => /\{([^}]+)\}/.exec(k)?.[1]));
    expect(tags.size).toBe(1);
    expect(counters.join()).not.toContain('cust_ada');
  });

  it('when a later process counts for the same device, then the earlier wrong codes still count (no reset)', async () => {
    await wrongCodes(adaPhone, WRONG_CODE_LIMIT - 1);
    lockout = createLockout({ redis: store.redis, keys: createKeys(prefix), random: cryptoRandom });
    expect(await wrongCodes(adaPhone, 2)).toEqual(['counted+locked', 'locked']);
  });
});
