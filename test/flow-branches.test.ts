import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { caller, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { heard } from './support/twiml.js';
import { confirmHeardCode, timelineOf } from './support/verified-call.js';

/** Issue 15 item 5: data a flow can branch on — account types and opening hours — through HTTP on a fixture flow. */

const FLOWS_DIR = fileURLToPath(new URL('./fixtures/flows/branches', import.meta.url));

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const start = () => startTestApp({ env: { FLOWS_DIR } });

describe('an action limited to savings accounts (types: [savings])', () => {
  async function savingsCall(app: TestApp, customerId: string) {
    const device = await enrollDevice(app, customerId);
    const call = caller(app, { from: '+14155550999' });
    await call.dial();
    return { call, verified: await confirmHeardCode(app, call, device, await call.press('1')) };
  }

  it('when the customer has a checking and a savings account, then the savings balance is read without a question', async () => {
    t = await start();
    const { verified } = await savingsCall(t, 'cust_002'); // checking ••5555, savings ••7788
    expect(heard(verified)).toContain('For account ending in 7 7 8 8, your available balance is $15,020.00.');
    expect(heard(verified)).not.toContain('5 5 5 5');
    expect(heard(verified)).toMatch(/For your savings balance, press 1/);
  });

  it('when the customer has no savings account, then they hear so, no balance is read and they are back at the menu', async () => {
    t = await start();
    const { call, verified } = await savingsCall(t, 'cust_001'); // one checking account
    expect(heard(verified)).toContain('You have no savings account.');
    expect(heard(verified)).not.toMatch(/balance is/);
    expect(heard(verified)).toMatch(/For your savings balance, press 1/);
    expect((await timelineOf(t, call.callSid)).map((e) => e.type)).not.toContain('balance_read');
  });
});

describe('an hours node in front of the agents (America/New_York, weekdays 9-5, Christmas closed)', () => {
  it.each([
    ['a Tuesday at 10:00 in New York', Date.UTC(2026, 11, 1, 15, 0), 'open'],
    ['a Tuesday at 18:00 in New York', Date.UTC(2026, 11, 1, 23, 0), 'closed'],
    ['a Saturday at noon in New York', Date.UTC(2026, 11, 5, 17, 0), 'closed'],
    ['Christmas Day (a Friday) at 10:00 in New York', Date.UTC(2026, 11, 25, 15, 0), 'closed'],
    ['a Monday at 08:59 in New York (summer time)', Date.UTC(2026, 6, 6, 12, 59), 'closed'],
    ['a Monday at 09:00 in New York (summer time)', Date.UTC(2026, 6, 6, 13, 0), 'open'],
  ])('when the caller presses 0 on %s, then the call goes the %s way', async (_when, at, branch) => {
    t = await start();
    t.clock.set(at);
    const call = caller(t);
    await call.dial();
    const answer = await call.press('0');
    if (branch === 'open') {
      expect(heard(answer)).toContain('Connecting you to an agent.');
      expect(answer.enqueue).toBeDefined();
    } else {
      expect(heard(answer)).toContain('Our agents are available Monday to Friday, 9 to 5 Eastern time.');
      expect(heard(answer)).toMatch(/For your savings balance, press 1/);
      expect(answer.enqueue).toBeUndefined();
    }
  });

  it('when the injected clock moves past closing time during the call, then the same caller is answered by the new time', async () => {
    t = await start();
    t.clock.set(Date.UTC(2026, 11, 1, 21, 59)); // 16:59 in New York
    const call = caller(t);
    await call.dial();
    t.clock.advance(2 * 60 * 1000); // 17:01
    expect(heard(await call.press('0'))).toContain('Our agents are available');
  });
});
