import { performance } from 'node:perf_hooks';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoBank } from '../src/banking/demo-bank.js';
import { createHttpBank } from '../src/banking/http-bank.js';
import { createLogger } from '../src/log/logger.js';
import { caller, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { controllableBank } from './support/bank-double.js';
import { healthy, startFakeCore, type CoreHandler, type FakeCore } from './support/core-bank-fake.js';
import { heard, type ParsedTwiml } from './support/twiml.js';

/** DESIGN A3: every /twilio/* answer leaves within 10 s of the request, whatever the backends do. */

const APOLOGY = "Sorry, we can't get your balance right now.";
const MAIN_MENU = /For your account balance, press 1/;

let t: TestApp | undefined;
let core: FakeCore | undefined;
afterEach(async () => {
  await t?.close();
  await core?.close();
  t = undefined;
  core = undefined;
});

/** Dials, presses 1 (balance), confirms the code on the device; returns the URL the call is redirected to. */
async function confirmedBalanceCall(app: TestApp) {
  const device = await enrollDevice(app);
  const call = caller(app);
  await call.dial();
  const did = spokenCode(await call.press('1')) ?? '';
  expect((await device.confirm(did)).status).toBe(200);
  const url = app.twilioFake.callUpdates().find((u) => u.path.endsWith(`/Calls/${call.callSid}.json`))?.form.Url ?? '';
  expect(url).not.toBe('');
  return { call, redirectedTo: url };
}

/** Times one webhook: the answer and how long it took to leave. */
async function timed(turn: () => Promise<ParsedTwiml>): Promise<{ twiml: ParsedTwiml; ms: number }> {
  const started = performance.now();
  const twiml = await turn();
  return { twiml, ms: performance.now() - started };
}

const failClosedCount = async (app: TestApp) => {
  const text = (await request(app.app).get('/metrics')).text;
  return Number(/^vaultline_fail_closed_total (\d+)/m.exec(text)?.[1] ?? NaN);
};

describe('the 10 s turn budget', () => {
  it('when the core bank answers in 20 s, then with the production budget the caller hears the balance apology within 10 s and is back at the menu', async () => {
    core = await startFakeCore();
    core.answer(healthy);
    // The real adapter with its production timeouts (3 s an attempt, one retry): on its own it would
    // take 3 + 0.2 + 2.5 s for the customer (first attempt lost) and 3 + 0.2 + 3 s for the balance.
    const bank = createHttpBank({ baseUrl: core.baseUrl, logger: createLogger({ level: 'silent' }) });
    t = await startTestApp({ overrides: { bank } });
    const { call, redirectedTo } = await confirmedBalanceCall(t);

    let customerAsked = 0;
    const slow: CoreHandler = (req, res) => {
      const path = req.url ?? '';
      const after = (ms: number) => void setTimeout(() => healthy(req, res), ms).unref();
      if (path.endsWith('/balance')) return after(20_000);
      if (/\/customers\/[^/]+$/.test(path)) return after(++customerAsked === 1 ? 20_000 : 2500);
      healthy(req, res);
    };
    core.answer(slow);

    const { twiml, ms } = await timed(() => call.fetch(redirectedTo));
    expect(ms).toBeLessThan(10_000);
    expect(heard(twiml)).toContain(APOLOGY);
    expect(heard(twiml)).toMatch(MAIN_MENU);
    expect(twiml.gather).toBeDefined();
    expect(twiml.enqueue).toBeUndefined();
    // The budget ended it (not the adapter's own timeouts), and it is not a fail-closed turn.
    expect(t.logs.some((l) => l.msg === 'protected action failed' && l.reason === 'turn_budget_spent')).toBe(true);
    expect(await failClosedCount(t)).toBe(0);

    // The call goes on from the menu: the agent is one key away.
    core.answer(healthy);
    expect((await call.press('0')).enqueue).toBeDefined();
  });

  it('when a backend ignores its signal and never answers, then the budget still answers the turn with the apology and the menu', async () => {
    const bank = controllableBank(await createDemoBank({ file: 'data/demo-bank.json' }));
    // A short budget so the story takes a second; the production wiring is the test above.
    t = await startTestApp({ overrides: { bank: bank.bank, turnBudgetMs: 1500 } });
    const { call, redirectedTo } = await confirmedBalanceCall(t);
    const held = bank.holdNextBalance();

    const { twiml, ms } = await timed(() => call.fetch(redirectedTo));
    expect(ms).toBeLessThan(1500);
    expect(heard(twiml)).toContain(APOLOGY);
    expect(heard(twiml)).toMatch(MAIN_MENU);
    expect(await failClosedCount(t)).toBe(0);

    // The stuck read finishing later changes nothing the caller hears; the next balance is read.
    held.release();
    const again = await call.press('1');
    expect(heard(again)).toContain('For account ending in 9 8 7 6, your available balance is $1,250.50.');
  });
});
