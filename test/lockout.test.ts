import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../src/store/client.js';
import { createKeys } from '../src/store/keys.js';
import { createLockout, WRONG_CODE_LIMIT, WRONG_CODE_WINDOW_SECONDS, type Lockout, type LockoutSubject } from '../src/verification/lockout.js';
import { freshPrefix } from './support/prefix.js';
import { STORE_KINDS, openStore } from './support/store.js';

describe.each(STORE_KINDS)('wrong-code lockout on the %s store', (kind) => {
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
    lockout = createLockout({ redis: store.redis, keys: createKeys(prefix) });
  });

  const adaPhone: LockoutSubject = { deviceId: 'dev_phone', customerId: 'cust_ada' };
  const adaTablet: LockoutSubject = { deviceId: 'dev_tablet', customerId: 'cust_ada' };
  const adaWatch: LockoutSubject = { deviceId: 'dev_watch', customerId: 'cust_ada' };
  const grace: LockoutSubject = { deviceId: 'dev_grace', customerId: 'cust_grace' };

  async function wrongCodes(subject: LockoutSubject, n: number) {
    const results = [];
    for (let i = 0; i < n; i++) results.push((await lockout.recordWrongCode(subject)).nowLocked);
    return results;
  }

  it('when a device has never sent a wrong code, then it is not locked', async () => {
    await expect(lockout.isLocked(adaPhone)).resolves.toEqual({ locked: false, retryAfterSeconds: 0 });
  });

  it('when a device sends 10 wrong codes, then the 10th locks it for the 15-minute window', async () => {
    const locks = await wrongCodes(adaPhone, WRONG_CODE_LIMIT);
    expect(locks).toEqual([...Array(WRONG_CODE_LIMIT - 1).fill(false), true]);
    const state = await lockout.isLocked(adaPhone);
    expect(state.locked).toBe(true);
    expect(state.retryAfterSeconds).toBeGreaterThan(WRONG_CODE_WINDOW_SECONDS - 5);
    expect(state.retryAfterSeconds).toBeLessThanOrEqual(WRONG_CODE_WINDOW_SECONDS);
  });

  it('when a device has sent 9 wrong codes, then it is still allowed, and asking does not count as a try', async () => {
    await wrongCodes(adaPhone, WRONG_CODE_LIMIT - 1);
    for (let i = 0; i < 5; i++) expect((await lockout.isLocked(adaPhone)).locked).toBe(false);
    expect(await wrongCodes(adaPhone, 1)).toEqual([true]);
  });

  it('when one customer spreads 10 wrong codes over two devices, then the customer is locked on every device, and only that customer', async () => {
    await wrongCodes(adaPhone, 5);
    expect(await wrongCodes(adaTablet, 5)).toEqual([false, false, false, false, true]);

    expect((await lockout.isLocked(adaPhone)).locked).toBe(true);
    expect((await lockout.isLocked(adaTablet)).locked).toBe(true);
    // A third device of the same customer never sent a wrong code, yet the customer is locked.
    expect((await lockout.isLocked(adaWatch)).locked).toBe(true);
    expect((await lockout.isLocked(grace)).locked).toBe(false);
  });

  it('when a locked device keeps sending wrong codes, then it stays locked and the hold is not pushed further out', async () => {
    await wrongCodes(adaPhone, WRONG_CODE_LIMIT);
    const before = await lockout.isLocked(adaPhone);
    expect(await wrongCodes(adaPhone, 3)).toEqual([true, true, true]);
    const after = await lockout.isLocked(adaPhone);
    expect(after.locked).toBe(true);
    expect(after.retryAfterSeconds).toBeLessThanOrEqual(before.retryAfterSeconds);
  });

  it('when a new session or a new process counts for the same device, then the earlier wrong codes still count (no reset)', async () => {
    await wrongCodes(adaPhone, WRONG_CODE_LIMIT - 1);
    const another = createLockout({ redis: store.redis, keys: createKeys(prefix) });
    expect((await another.recordWrongCode(adaPhone)).nowLocked).toBe(true);
    expect((await lockout.isLocked(adaPhone)).locked).toBe(true);
  });
});
