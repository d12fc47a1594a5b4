import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedisWithMovableClock, type ClockedRedis } from './support/store-clock.js';
import { enrollDevice } from './support/authenticator.js';
import { codeIn, startApiTestApp, type ApiTestApp } from './support/api-app.js';

interface Created {
  sessionId: string;
  ttlSeconds: number;
  pollAfterMs: number;
  maxReissues: number;
  prompts: { speak: string; loop: string };
}

/**
 * What docs/integrations/genesys-cloud.md tells an Architect flow to do: create (data action), speak
 * `prompts.speak`, then loop — play `prompts.loop`, wait `pollAfterMs`, poll — until `terminal`; on
 * `expired` reissue while `maxReissues` allows. Time passes for the app and the store together (a
 * code's life is the store's clock).
 */
async function architectLoop(api: ApiTestApp, store: ClockedRedis, callId: string, caller: (heardCode: string, loop: number) => Promise<void>) {
  const created = await api.send('post', '/sessions', {
    body: { provider: 'genesys-cloud', callId, ani: '+14155550101', dnis: '+18005550199', locale: 'en-US' },
    headers: { 'Idempotency-Key': `${callId}:create` },
  });
  expect(created.status).toBe(201);
  let session = created.body as Created;
  let heard = codeIn(session.prompts.speak);
  let reissuesLeft = session.maxReissues;
  const polls: { at: number; status: number }[] = [];
  // The flow's own bound: one code lifetime of loops per code, so a stuck session cannot eat the action budget.
  const loopsPerCode = Math.ceil((session.ttlSeconds * 1000) / session.pollAfterMs) + 1;
  let loop = 0;
  for (let budget = loopsPerCode * (reissuesLeft + 1); budget > 0; budget--, loop++) {
    api.t.clock.advance(session.pollAfterMs);
    store.advance(session.pollAfterMs);
    await caller(heard, loop);
    const poll = await api.send('get', '/sessions/{sessionId}', { params: { sessionId: session.sessionId } });
    polls.push({ at: api.t.clock.now(), status: poll.status });
    const body = poll.body as { status: string; terminal: boolean; callToken?: string; pollAfterMs: number };
    if (!body.terminal) continue;
    if (body.status === 'expired' && reissuesLeft > 0) {
      const re = await api.send('post', '/sessions/{sessionId}/reissue', { params: { sessionId: session.sessionId }, headers: { 'Idempotency-Key': `${callId}:reissue:${reissuesLeft}` } });
      expect(re.status).toBe(201);
      session = re.body as Created;
      heard = codeIn(session.prompts.speak);
      reissuesLeft -= 1;
      continue;
    }
    return { status: body.status, callToken: body.callToken, polls, loops: loop + 1 };
  }
  return { status: 'flow_budget_spent', polls, loops: loop };
}

/** No second of the per-call limit (API_RATE_LIMIT_PER_CALL as the app runs it) holds more polls than it allows. */
function withinLimit(polls: { at: number }[], perSecond: number): boolean {
  return polls.every((p) => polls.filter((q) => Math.floor(q.at / 1000) === Math.floor(p.at / 1000)).length <= perSecond);
}

describe('a simulated Genesys Cloud Architect flow on the provider API', () => {
  let api: ApiTestApp;
  let store: ClockedRedis;
  beforeAll(async () => {
    store = await startRedisWithMovableClock();
  });
  afterAll(async () => {
    await store.stop();
  });
  beforeEach(async () => {
    api = await startApiTestApp({ redisUrl: store.url });
    api.t.clock.set(Date.now() + store.offsetMs);
  });
  afterEach(async () => {
    await api.close();
  });

  it('when the caller types the spoken code after a few loops, then the loop ends confirmed, the balance is read with the call token, and every poll was within the limit', async () => {
    const device = await enrollDevice(api.t);
    const callId = randomUUID();
    const run = await architectLoop(api, store, callId, async (code, loop) => {
      if (loop === 4) expect((await device.confirm(code)).status).toBe(200);
    });
    expect(run.status).toBe('confirmed');
    expect(run.loops).toBe(5);
    expect(run.polls.every((p) => p.status === 200)).toBe(true);
    expect(withinLimit(run.polls, api.t.config.apiRateLimits.perCall)).toBe(true);

    // The flow plays `speech` to the caller: the demo bank's cust_001 (data/demo-bank.json), account ending 9876.
    const balance = await api.send('post', '/balance', { auth: { bearer: run.callToken ?? '' }, body: { callId, accountIndex: 1 } });
    expect(balance.status).toBe(200);
    expect(balance.body).toEqual({
      speech: 'For account ending in 9 8 7 6, your available balance is $1,250.50.',
      maskedAccount: '••••9876',
      amount: '1250.50',
      currency: 'USD',
    });
    expect(api.bank.reads()).toEqual([{ method: 'getBalance', customerId: device.customerId, accountId: 'acc_001' }]);
    expect((await api.send('post', '/calls/{callId}/end', { params: { callId } })).status).toBe(204);

    const events = await api.timeline(callId);
    expect(events.slice(0, 2)).toEqual(['session_created', 'did_issued']);
    expect(events.filter((e) => e === 'loop_iteration')).toHaveLength(5);
    expect(events).toEqual(expect.arrayContaining(['confirmed', 'token_issued', 'balance_read', 'call_ended']));
    expect(events.at(-1)).toBe('call_ended');
  });

  it('when the first code runs out unused, then the flow reissues once, the caller confirms the new code, and the polls still stay within the limit', async () => {
    const device = await enrollDevice(api.t);
    const callId = randomUUID();
    const codes = new Set<string>();
    const run = await architectLoop(api, store, callId, async (code, loop) => {
      codes.add(code);
      if (codes.size === 2 && loop % 3 === 0) expect((await device.confirm(code)).status).toBe(200);
    });
    expect(run.status).toBe('confirmed');
    expect(codes.size).toBe(2);
    expect(withinLimit(run.polls, api.t.config.apiRateLimits.perCall)).toBe(true);
    const events = await api.timeline(callId);
    expect(events).toEqual(expect.arrayContaining(['timeout', 'reissued', 'confirmed']));
  });

  it('when nobody ever types the code, then the flow stops on expired after its one reissue, well inside the 10,000-action budget', async () => {
    const run = await architectLoop(api, store, randomUUID(), async () => undefined);
    expect(run.status).toBe('expired');
    // ~3 Architect actions per loop turn (data action, decision, play/wait).
    expect(run.loops * 3).toBeLessThan(10_000);
    expect(withinLimit(run.polls, api.t.config.apiRateLimits.perCall)).toBe(true);
  });
});
