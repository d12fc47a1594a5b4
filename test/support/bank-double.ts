import type { Balance, BankingPort } from '../../src/banking/port.js';

export interface BankCall {
  method: keyof BankingPort;
  customerId: string;
  accountId?: string;
}

/**
 * A real bank (the demo bank, usually) behind a test double on the banking port: every question
 * is recorded and answered by the real bank, except that a test can keep the next balance in flight
 * (`holdNextBalance`) or make balances absurd (`bloat`). The app's real protected actions run on it.
 */
export function controllableBank(inner: BankingPort) {
  const calls: BankCall[] = [];
  let held: { entered: () => void; released: Promise<void> } | undefined;
  let bloated = false;

  const bank: BankingPort = {
    getCustomer(customerId) {
      calls.push({ method: 'getCustomer', customerId });
      return inner.getCustomer(customerId);
    },
    async getBalance(customerId, accountId): Promise<Balance | null> {
      calls.push({ method: 'getBalance', customerId, accountId });
      const h = held;
      held = undefined;
      if (h) {
        h.entered();
        await h.released;
      }
      const balance = await inner.getBalance(customerId, accountId);
      // A core answering a 40,000-digit amount: a bug the API's 32 KB guard must catch.
      return balance && bloated ? { ...balance, available: `${'9'.repeat(40 * 1024)}.00` } : balance;
    },
    listStatements(customerId, accountId) {
      calls.push({ method: 'listStatements', customerId, accountId });
      return inner.listStatements(customerId, accountId);
    },
  };

  return {
    bank,
    /** Every question asked of the bank, oldest first. */
    calls,
    /** The account reads only (balances and statement lists), without the customer look-ups. */
    reads: () => calls.filter((c) => c.method !== 'getCustomer'),
    /** The next getBalance waits until `release()`; `entered` resolves once it is waiting. */
    holdNextBalance() {
      let release!: () => void;
      let entered!: () => void;
      const enteredP = new Promise<void>((r) => (entered = r));
      held = { entered, released: new Promise<void>((r) => (release = r)) };
      return { entered: enteredP, release };
    },
    /** From now on every balance is absurdly large. */
    bloat() {
      bloated = true;
    },
  };
}

export type ControllableBank = ReturnType<typeof controllableBank>;
