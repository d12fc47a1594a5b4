import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHttpBank, type HttpBankOptions } from '../src/banking/http-bank.js';
import { BankingUnavailableError, type BankingPort } from '../src/banking/port.js';
import { createLogger } from '../src/log/logger.js';
import { ADA, healthy, json, startFakeCore } from './support/core-bank-fake.js';

async function failure(p: Promise<unknown>): Promise<BankingUnavailableError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BankingUnavailableError);
  return err as BankingUnavailableError;
}

describe('the HTTP core-banking adapter', () => {
  let core: Awaited<ReturnType<typeof startFakeCore>>;
  let bank: BankingPort;
  const make = (over: Partial<HttpBankOptions> = {}) =>
    createHttpBank({ baseUrl: core.baseUrl, bearerToken: 'core-token-for-tests', timeoutMs: 200, retryDelayMs: 20, ...over });

  beforeEach(async () => {
    core = await startFakeCore();
    bank = make();
  });
  afterEach(async () => {
    vi.useRealTimers();
    await core.close();
  });

  it('when the core answers, then the customer arrives with an opaque account number and mobile, asked for with the bearer token', async () => {
    core.answer(healthy);
    const ada = await bank.getCustomer('cust_001');
    expect(ada?.name).toBe('Ada Lovelace');
    expect(ada?.accounts[0]?.number.last4()).toBe('9876');
    expect(JSON.stringify(ada)).not.toContain('4000123412349876');
    expect(JSON.stringify(ada)).not.toContain('+14155550101');
    expect(ada?.mobile.e164ForSms()).toBe('+14155550101');
    expect(core.requests).toEqual([{ method: 'GET', path: '/core/v1/customers/cust_001', authorization: 'Bearer core-token-for-tests' }]);
  });

  it('when balance and statements are asked for, then the balance is a decimal string and statements come newest first', async () => {
    core.answer(healthy);
    expect(await bank.getBalance('cust_001', 'acc_001')).toEqual({ available: '1250.50', currency: 'USD' });
    expect((await bank.listStatements('cust_001', 'acc_001'))?.map((s) => s.period)).toEqual(['2026-10', '2026-09']);
  });

  it('when the core answers 404, then the answer is null and nothing is retried', async () => {
    core.answer(healthy);
    expect(await bank.getCustomer('cust_404')).toBeNull();
    expect(await bank.getBalance('cust_001', 'acc_404')).toBeNull();
    expect(await bank.listStatements('cust_001', 'acc_404')).toBeNull();
    expect(core.requests).toHaveLength(3);
  });

  it('when the core is slower than the timeout, then the call fails as a timeout after two attempts, in about two timeouts', async () => {
    core.answer(() => undefined); // never answers
    const started = performance.now();
    const err = await failure(bank.getBalance('cust_001', 'acc_001'));
    const elapsed = performance.now() - started;
    expect(err.reason).toBe('timeout');
    expect(err.code).toBe('unavailable');
    expect(core.requests).toHaveLength(2);
    // 200 ms + 20 ms back-off + 200 ms, with room for a slow machine but far from "forever".
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(2000);
  });

  it('when the caller\'s turn budget runs out during the first attempt, then the call ends at once as a timeout and no retry is started', async () => {
    core.answer((req, res) => void setTimeout(() => healthy(req, res), 5000).unref());
    const slowBank = make({ timeoutMs: 3000 });
    const budget = new AbortController();
    setTimeout(() => budget.abort(), 100);
    const started = performance.now();
    const err = await failure(slowBank.getBalance('cust_001', 'acc_001', { signal: budget.signal }));
    expect(err.reason).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(core.requests).toHaveLength(1);
  });

  it('when the core answers 500 once, then the one retry gets the answer', async () => {
    let calls = 0;
    core.answer((req, res) => (++calls === 1 ? json(res, 503, { error: 'busy' }) : healthy(req, res)));
    expect(await bank.getBalance('cust_001', 'acc_001')).toEqual({ available: '1250.50', currency: 'USD' });
    expect(core.requests).toHaveLength(2);
  });

  it('when the core answers 500 twice, then BankingUnavailableError after exactly one retry', async () => {
    core.answer((_req, res) => json(res, 500, { error: 'boom' }));
    const err = await failure(bank.getCustomer('cust_001'));
    expect(err.reason).toBe('server_error');
    expect(err.message).toBe('core banking unavailable (server_error)');
    expect(core.requests).toHaveLength(2);
  });

  it('when the core refuses our credentials, then it is unavailable at once, without a retry', async () => {
    core.answer((_req, res) => json(res, 401, { error: 'unauthorized' }));
    expect((await failure(bank.getCustomer('cust_001'))).reason).toBe('rejected');
    expect(core.requests).toHaveLength(1);
  });

  it('when the core answers a broken body, then it is a bad response whose error never quotes the body', async () => {
    core.answer((req, res) => {
      if (req.url?.endsWith('/balance')) return json(res, 200, { available: 1250.5, currency: 'USD' });
      if (req.url?.endsWith('/statements')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"number":"4000123412349876",');
      }
      json(res, 200, { ...ADA, accounts: [{ ...ADA.accounts[0], number: '4000-1234-1234-9876' }] });
    });
    for (const p of [bank.getCustomer('cust_001'), bank.getBalance('cust_001', 'acc_001'), bank.listStatements('cust_001', 'acc_001')]) {
      const err = await failure(p);
      expect(err.reason).toBe('bad_response');
      const everything = `${err.message} ${String((err.cause as Error | undefined)?.message)}`;
      expect(everything).not.toContain('1234');
    }
    expect(core.requests).toHaveLength(3);
  });

  it('when the core answers for another customer than asked, then the answer is refused', async () => {
    core.answer((_req, res) => json(res, 200, { ...ADA, id: 'cust_002' }));
    expect((await failure(bank.getCustomer('cust_001'))).reason).toBe('bad_response');
  });

  it('when nothing listens at the URL, then it is a network failure after one retry', async () => {
    const url = core.baseUrl;
    await core.close();
    const err = await failure(createHttpBank({ baseUrl: url, timeoutMs: 200, retryDelayMs: 5 }).getCustomer('cust_001'));
    expect(err.reason).toBe('network');
  });

  it('when the core keeps failing, then the breaker opens, later calls fail at once without reaching it, and it closes once the core recovers', async () => {
    vi.useFakeTimers({ toFake: ['Date'] }); // cockatiel times the open breaker with Date.now()
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }) });
    bank = make({ breakerThreshold: 3, breakerHalfOpenAfterMs: 10_000, logger });
    core.answer((_req, res) => json(res, 500, { error: 'down' }));

    expect((await failure(bank.getBalance('cust_001', 'acc_001'))).reason).toBe('server_error'); // failures 1, 2
    expect((await failure(bank.getBalance('cust_001', 'acc_001'))).reason).toBe('breaker_open'); // failure 3 opens it
    expect(core.requests).toHaveLength(3);
    expect((await failure(bank.getBalance('cust_001', 'acc_001'))).reason).toBe('breaker_open');
    expect(core.requests).toHaveLength(3);
    expect(lines.some((l) => l.includes('core banking circuit open'))).toBe(true);

    core.answer(healthy);
    vi.setSystemTime(Date.now() + 9_000);
    expect((await failure(bank.getBalance('cust_001', 'acc_001'))).reason).toBe('breaker_open');
    vi.setSystemTime(Date.now() + 1_500);
    expect(await bank.getBalance('cust_001', 'acc_001')).toEqual({ available: '1250.50', currency: 'USD' });
    expect(await bank.getCustomer('cust_001')).not.toBeNull();
    expect(core.requests).toHaveLength(5);
    expect(lines.some((l) => l.includes('core banking circuit closed'))).toBe(true);
  });

  it('when a timeout above 3 s is configured, then the adapter refuses to be built', () => {
    expect(() => createHttpBank({ baseUrl: core.baseUrl, timeoutMs: 3001 })).toThrow('banking timeout must be 1 to 3000 ms');
    expect(() => createHttpBank({ baseUrl: core.baseUrl })).not.toThrow();
  });
});
