import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoBank } from '../src/banking/demo-bank.js';
import type { BankingPort } from '../src/banking/port.js';
import { caller, PUBLIC_BASE_URL, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { heard, type ParsedTwiml } from './support/twiml.js';

/**
 * Issue 3 acceptance (PCI DSS 3.4.1): random 12–19 digit account numbers, put in the bank, travel
 * every speech and SMS path of a whole call (the account choice, the balance, the statement text,
 * the link page); at most their last four come out.
 */

/**
 * Digit runs as a listener or reader would take them: digits joined by nothing, a space, ", " or
 * "-" ("1 2 3 4", "1, 2, 3", "4000-1234") count as one number.
 */
function digitRuns(text: string): string[] {
  return (text.match(/\d(?:(?:, |[ -])?\d)*/g) ?? []).map((r) => r.replace(/\D/g, ''));
}

/** True when `text` shows five or more consecutive digits of `number` (more than its last four). */
function revealsMoreThanLastFour(text: string, number: string): boolean {
  const windows = new Set<string>();
  for (let i = 0; i + 5 <= number.length; i++) windows.add(number.slice(i, i + 5));
  return digitRuns(text).some((run) => run.length >= 5 && [...windows].some((w) => run.includes(w)));
}

const accountNumber = fc
  .integer({ min: 12, max: 19 })
  .chain((n) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }))
  .map((digits) => digits.join(''));

/** A bank whose one customer (cust_001) is replaced for every run. */
function switchableBank() {
  let current: BankingPort | undefined;
  const now = (): BankingPort => {
    if (!current) throw new Error('no bank loaded for this run');
    return current;
  };
  const port: BankingPort = {
    getCustomer: (id) => now().getCustomer(id),
    getBalance: (c, a) => now().getBalance(c, a),
    listStatements: (c, a) => now().listStatements(c, a),
  };
  return {
    port,
    async load(dir: string, numbers: readonly [string, string]) {
      const file = join(dir, 'bank.json');
      const statements = [
        { period: '2026-10', file: 'cust_001/acc_001/2026-10.pdf' },
        { period: '2026-09', file: 'cust_001/acc_001/2026-09.pdf' },
      ];
      writeFileSync(
        file,
        JSON.stringify({
          customers: [
            {
              id: 'cust_001',
              name: 'Ada Lovelace',
              mobile: '+14155550101',
              locale: 'en-US',
              accounts: numbers.map((number, i) => ({ id: `acc_00${i + 1}`, number, type: 'checking', currency: 'USD', available: '1250.50', statements })),
            },
          ],
        }),
      );
      current = await createDemoBank({ file });
    },
  };
}

describe('masking: account numbers through every speech and SMS path', () => {
  let t: TestApp;
  let dir: string;
  const bank = switchableBank();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vl-mask-'));
    t = await startTestApp({ overrides: { bank: bank.port } });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the checker itself sees a leak in every form a number could be spoken or written', () => {
    const n = '4000123412349876';
    expect(revealsMoreThanLastFour('account 4000123412349876', n)).toBe(true);
    expect(revealsMoreThanLastFour('ending in 2 3 4 9 8 7 6', n)).toBe(true);
    expect(revealsMoreThanLastFour('4000-1234-1234-9876', n)).toBe(true);
    expect(revealsMoreThanLastFour('digits 1, 2, 3, 4, 9', n)).toBe(true);
    expect(revealsMoreThanLastFour('For account ending in 9 8 7 6, your available balance is $1,250.50.', n)).toBe(false);
  });

  it('when random 12–19 digit numbers are the accounts, then prompts, SMS and link page show at most the last four', async () => {
    await fc.assert(
      fc.asyncProperty(fc.tuple(accountNumber, accountNumber), async (numbers) => {
        await bank.load(dir, numbers);
        const device = await enrollDevice(t, 'cust_001');
        const call = caller(t);
        const outputs: string[] = [];
        const hear = (twiml: ParsedTwiml): ParsedTwiml => (outputs.push(heard(twiml)), twiml);

        hear(await call.dial());
        const did = spokenCode(hear(await call.press('1'))) ?? '';
        expect((await device.confirm(did)).status).toBe(200);
        const update = t.twilioFake.callUpdates().find((u) => u.path.endsWith(`/Calls/${call.callSid}.json`));
        const choice = hear(await call.fetch(update?.form.Url ?? ''));
        expect(heard(choice)).toContain(`For account ending in ${[...numbers[0].slice(-4)].join(' ')}, press 1.`);
        const balance = hear(await call.press('2'));
        expect(heard(balance)).toContain(`For account ending in ${[...numbers[1].slice(-4)].join(' ')}, your available balance is $1,250.50.`);
        hear(await call.press('2')); // statement: verified already, straight to the period menu
        hear(await call.press('1'));
        const sent = hear(await call.press('1'));
        expect(heard(sent)).toContain("We've sent a link to your mobile ending in 0 1 0 1.");

        const sms = t.twilioFake.messages().at(-1)?.form.Body ?? '';
        outputs.push(sms);
        const path = /\/s\/[A-Za-z0-9_-]+/.exec(sms.slice(PUBLIC_BASE_URL.length))?.[0] ?? '';
        outputs.push((await request(t.app).get(path)).text);

        // The code was spoken whole by design; take it out so its digits cannot match by chance.
        const spoken = outputs.map((o) => o.replace([...did].join(', '), '').replace([...did].join(' '), ''));
        for (const number of numbers) {
          for (const text of spoken) expect(revealsMoreThanLastFour(text, number), text).toBe(false);
        }
      }),
      { numRuns: 25 },
    );
  });
});
