import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { format, inspect } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountNumber, maskedAccount } from '../src/banking/account-number.js';
import { createDemoBank } from '../src/banking/demo-bank.js';
import { MobileNumber } from '../src/banking/mobile-number.js';
import type { BankingPort } from '../src/banking/port.js';
import { ConfigError } from '../src/config/load.js';
import { createLogger } from '../src/log/logger.js';

const SHIPPED = 'data/demo-bank.json';

describe('the shipped demo bank', () => {
  let bank: BankingPort;
  beforeAll(async () => {
    bank = await createDemoBank({ file: SHIPPED });
  });

  it('when Ada is looked up, then she has exactly the A6 account, masked, with her mobile and locale', async () => {
    const ada = await bank.getCustomer('cust_001');
    expect(ada).not.toBeNull();
    if (!ada) return;
    expect(ada.name).toBe('Ada Lovelace');
    expect(ada.locale).toBe('en-US');
    expect(ada.mobile.last4()).toBe('0101');
    expect(ada.mobile.e164ForSms()).toBe('+14155550101');
    expect(ada.accounts).toHaveLength(1);
    const [acc] = ada.accounts;
    expect(acc?.id).toBe('acc_001');
    expect(acc?.type).toBe('checking');
    expect(acc?.currency).toBe('USD');
    expect(acc?.number.last4()).toBe('9876');
    expect(await bank.getBalance('cust_001', 'acc_001')).toEqual({ available: '1250.50', currency: 'USD' });
    expect(await bank.listStatements('cust_001', 'acc_001')).toEqual([
      { period: '2026-10', file: 'cust_001/acc_001/2026-10.pdf' },
      { period: '2026-09', file: 'cust_001/acc_001/2026-09.pdf' },
    ]);
  });

  it('when the fixture is read, then one customer has two accounts and one speaks es-US', async () => {
    const raw = JSON.parse(await readFile(SHIPPED, 'utf8')) as { customers: { id: string }[] };
    const customers = await Promise.all(raw.customers.map((c) => bank.getCustomer(c.id)));
    expect(customers.length).toBeGreaterThanOrEqual(3);
    expect(customers.some((c) => c !== null && c.accounts.length === 2 && c.locale === 'en-US')).toBe(true);
    expect(customers.some((c) => c?.locale === 'es-US')).toBe(true);
    const last4s = customers.flatMap((c) => c?.accounts.map((a) => a.number.last4()) ?? []);
    expect(new Set(last4s).size).toBe(last4s.length);
  });

  it('when every listed statement is looked for under data/statements, then each is a real PDF', async () => {
    const raw = JSON.parse(await readFile(SHIPPED, 'utf8')) as { customers: { accounts: { statements: { file: string }[] }[] }[] };
    const files = raw.customers.flatMap((c) => c.accounts.flatMap((a) => a.statements.map((s) => s.file)));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const file of files) {
      const bytes = await readFile(path.join('data/statements', file));
      expect(bytes.subarray(0, 5).toString('latin1'), file).toBe('%PDF-');
      expect(bytes.length, file).toBeLessThan(20_000);
    }
  });

  it('when a customer or an account is unknown, or belongs to someone else, then the answer is null', async () => {
    expect(await bank.getCustomer('cust_999')).toBeNull();
    expect(await bank.getBalance('cust_001', 'acc_999')).toBeNull();
    expect(await bank.listStatements('cust_001', 'acc_999')).toBeNull();
    // acc_002 exists, but it is Grace's, not Ada's.
    expect(await bank.getBalance('cust_001', 'acc_002')).toBeNull();
    expect(await bank.listStatements('cust_001', 'acc_002')).toBeNull();
  });
});

describe('a demo bank file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vl-bank-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const account = (over: Record<string, unknown> = {}) => ({
    id: 'acc_1', number: '4000123412349876', type: 'checking', currency: 'USD', available: '10.00', statements: [], ...over,
  });
  const customer = (over: Record<string, unknown> = {}) => ({
    id: 'cust_1', name: 'Test Person', mobile: '+14155550199', locale: 'en-US', accounts: [account()], ...over,
  });
  async function load(content: unknown): Promise<unknown> {
    const file = path.join(dir, `bank-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
    try {
      await createDemoBank({ file });
    } catch (err) {
      return Object.assign(err as object, { file });
    }
    throw new Error('expected the file to be refused');
  }

  it('when an account number is malformed, then start-up stops naming the file and the field, not the value', async () => {
    const bad = '40001234123498761234567';
    const err = (await load({ customers: [customer({ accounts: [account({ number: bad })] })] })) as ConfigError & { file: string };
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(err.file);
    expect(err.message).toContain('customers.0.accounts.0.number');
    expect(err.message).not.toContain(bad);
    expect(err.message).not.toContain(bad.slice(0, -4));
  });

  it('when fields are missing or wrong, then each one is named', async () => {
    const err = (await load({ customers: [customer({ mobile: '4155550199', locale: 'english' }), customer({ id: 'cust_2', accounts: [account({ available: 12.5, currency: 'usd' })] })] })) as Error;
    expect(err.message).toContain('customers.0.mobile');
    expect(err.message).toContain('customers.0.locale');
    expect(err.message).toContain('customers.1.accounts.0.available');
    expect(err.message).toContain('customers.1.accounts.0.currency');
  });

  it('when ids repeat or a statement key climbs out of the store, then the file is refused', async () => {
    const err = (await load({
      customers: [
        customer({ accounts: [account(), account({ statements: [{ period: '2026-10', file: '../../etc/passwd' }] })] }),
        customer(),
      ],
    })) as Error;
    expect(err.message).toContain('customers.0.accounts.1.id: duplicate account id');
    expect(err.message).toContain('customers.0.accounts.1.statements.0.file');
    expect(err.message).toContain('customers.1.id: duplicate customer id');
  });

  it('when the file is not JSON or does not exist, then the error names it without quoting its text', async () => {
    const notJson = (await load('{"customers": [ 4000123412349876 oops')) as Error & { file: string };
    expect(notJson.message).toBe(`BANK_DATA_FILE ${notJson.file}: not valid JSON`);
    const missing = path.join(dir, 'nope.json');
    await expect(createDemoBank({ file: missing })).rejects.toThrow(`BANK_DATA_FILE ${missing}: cannot be read (ENOENT)`);
  });

  it('when statements are listed oldest first, then they come back newest first', async () => {
    const file = path.join(dir, 'order.json');
    const statements = [
      { period: '2025-12', file: 'c/a/2025-12.pdf' },
      { period: '2026-02', file: 'c/a/2026-02.pdf' },
      { period: '2026-01', file: 'c/a/2026-01.pdf' },
    ];
    await writeFile(file, JSON.stringify({ customers: [customer({ accounts: [account({ statements })] })] }));
    const bank = await createDemoBank({ file });
    expect((await bank.listStatements('cust_1', 'acc_1'))?.map((s) => s.period)).toEqual(['2026-02', '2026-01', '2025-12']);
  });
});

describe('opaque account and mobile numbers', () => {
  /** Every way a value commonly turns into text on its way to a log, a prompt or an error. */
  function renderings(value: object): string[] {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    // No scrubber: this proves the class itself leaks nothing, whatever the logger does.
    const logger = createLogger({ level: 'info', destination });
    logger.info({ acct: value, nested: { deeper: [value] } }, `reading ${String(value)}`);
    logger.error({ err: new Error(`failed for ${String(value)}`) }, 'boom');
    expect(lines).toHaveLength(2);
    return [
      String(value),
      `${value as unknown as string}`,
      '' + (value as unknown as string),
      JSON.stringify(value),
      JSON.stringify({ value, list: [value] }),
      inspect(value),
      inspect({ a: { b: { c: value } } }, { depth: 10, showHidden: true }),
      format('%s %o %O %j', value, value, value, value),
      JSON.stringify(structuredClone({ value })),
      Object.keys(value).join(','),
      ...lines,
    ];
  }

  it('when a random 12–19 digit account number is rendered every common way, then only its last four show', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{12,19}$/), (digits) => {
        const number = AccountNumber.parse(digits);
        expect(number.last4()).toBe(digits.slice(-4));
        expect(number.spokenLast4()).toBe([...digits.slice(-4)].join(' '));
        expect(maskedAccount(number)).toBe(`••••${digits.slice(-4)}`);
        for (const text of renderings(number)) {
          expect(text).not.toContain(digits);
          expect(text).not.toContain(digits.slice(0, -4));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('when an account number is logged through the app logger, then the line carries a masked form and never throws', () => {
    const lines = renderings(AccountNumber.parse('4000123412349876')).slice(-2);
    // At any depth the number renders through its own toJSON: masked, the last four kept.
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ acct: '••••9876', nested: { deeper: ['••••9876'] }, msg: 'reading ••••9876' });
    expect(JSON.parse(lines[1] ?? '{}')).toMatchObject({ err: { message: 'failed for ••••9876' } });
  });

  it('when a mobile number is rendered every common way, then only its last four show; the SMS sender alone gets it whole', () => {
    const mobile = MobileNumber.parse('+14155550101');
    for (const text of renderings(mobile)) {
      expect(text).not.toContain('4155550101');
      expect(text).not.toContain('415555');
    }
    expect(mobile.masked()).toBe('••••0101');
    expect(mobile.spokenLast4()).toBe('0 1 0 1');
    expect(mobile.e164ForSms()).toBe('+14155550101');
  });

  it('when a malformed number is parsed, then the error does not repeat it', () => {
    expect(() => AccountNumber.parse('4000-1234-1234-9876')).toThrow('account number must be 8 to 19 digits');
    expect(() => AccountNumber.parse('4000123412349876123')).not.toThrow();
    expect(() => MobileNumber.parse('4155550101')).toThrow('mobile number must be E.164, e.g. +14155550101');
  });
});
