import { Redis } from 'ioredis';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { caller, PUBLIC_BASE_URL, spokenCode, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { eventually } from './support/eventually.js';
import { heard } from './support/twiml.js';
import { degradedReason } from '../src/ivr/degraded.js';
import { startRedisServer, type RedisServer } from '../scripts/lib/redis-server.js';

/**
 * DESIGN A10, issue 16 item 1: FAIL_MODE=open-low-risk keeps the flow's low-risk self-service while
 * the store is away — frozen (SIGSTOP: commands hang until they time out) or stopped (refused) — on a
 * redis-server of the test's own, and hands everything that needs verification to an agent.
 */

const WELCOME = /Thank you for calling Vaultline Bank/;
const MAIN_MENU = /For your account balance, press 1/;
const SPANISH_MENU = /Para consultar su saldo, oprima 1/;
const APOLOGY = /Sorry, we are having a technical problem/;

/**
 * The turn's budget of the new-caller test: its backends' share (2600 ms less a quarter for the
 * answer: 1950 ms) is spent before 2 s, and a turn the store holds past it is answered with the
 * apology instead of the menu. So hearing the welcome and the menu shows the answer was decided
 * within 2 s of the request, by the app's own monotonic clock, without the test timing anything.
 */
const TURN_BUDGET_MS = 2600;

type Outage = 'frozen' | 'stopped';

interface Setup {
  t: TestApp;
  redis: RedisServer;
  /** The store goes away: SIGSTOP (frozen) or killed (stopped). */
  outage(): Promise<void>;
  /** It comes back (the stopped one restarts empty on the same port) and takes writes again. */
  restore(): Promise<void>;
}

/** The call's audit events as their log lines say (the trail's own reads need the store's outbox). */
const auditTypes = (t: TestApp, callSid: string) =>
  t.logs.flatMap((l) => {
    const audit = l.audit as { type?: string; callId?: string } | undefined;
    return audit?.type && audit.callId === callSid ? [audit.type] : [];
  });

const degradedReasons = (t: TestApp, callSid: string) =>
  t.logs.flatMap((l) => {
    const audit = l.audit as { type?: string; callId?: string; reason?: string } | undefined;
    return audit?.type === 'degraded' && audit.callId === callSid ? [audit.reason] : [];
  });

const metric = async (t: TestApp, line: RegExp) => {
  const text = (await request(t.app).get('/metrics')).text;
  return Number(line.exec(text)?.[1] ?? 0);
};

describe.each<Outage>(['frozen', 'stopped'])('FAIL_MODE=open-low-risk, store %s', (kind) => {
  let setup: Setup | undefined;
  let frozen = false;
  afterEach(async () => {
    if (setup && frozen) process.kill(setup.redis.pid, 'SIGCONT');
    frozen = false;
    await setup?.t.close();
    await setup?.redis.stop();
    setup = undefined;
  });

  /** `turnBudgetMs` only where the test is about the answer's time: elsewhere the 10 s of production. */
  const start = async (env: Record<string, string> = { FAIL_MODE: 'open-low-risk' }, turnBudgetMs?: number): Promise<Setup> => {
    let redis = await startRedisServer();
    const t = await startTestApp({ redisUrl: redis.url, env, ...(turnBudgetMs === undefined ? {} : { overrides: { turnBudgetMs } }) });
    setup = {
      t,
      redis,
      async outage() {
        if (kind === 'frozen') {
          process.kill(redis.pid, 'SIGSTOP');
          frozen = true;
        } else await redis.stop();
      },
      async restore() {
        if (kind === 'frozen') {
          process.kill(redis.pid, 'SIGCONT');
          frozen = false;
        } else {
          redis = await startRedisServer([], redis.port);
          if (setup) setup.redis = redis;
        }
        await eventually(async () => expect((await request(t.app).get('/readyz')).status).toBe(200), 5000);
      },
    };
    return setup;
  };

  it('then a new caller hears the welcome and the main menu before the turn budget, and 0 reaches the agent queue', async () => {
    const { t, outage } = await start(undefined, TURN_BUDGET_MS);
    await outage();
    const call = caller(t);

    const first = await call.dial();
    expect(heard(first)).toMatch(WELCOME);
    expect(heard(first)).toMatch(MAIN_MENU);
    expect(heard(first)).not.toMatch(APOLOGY);
    expect(first.gather?.action).toMatch(new RegExp(`^${PUBLIC_BASE_URL}/twilio/step\\?t=1&d=[A-Za-z0-9_-]+$`));

    const agent = await call.press('0');
    expect(heard(agent)).toMatch(/connect you to an agent/);
    expect(agent.enqueue).toBe('agents-unverified');

    const types = auditTypes(t, call.callSid);
    expect(types.filter((x) => x === 'degraded')).toHaveLength(2);
    // A frozen store's commands time out (500 ms, store/client.ts); a stopped one's are refused at once.
    expect(degradedReasons(t, call.callSid)).toEqual(Array(2).fill(kind === 'frozen' ? 'store_timeout' : 'store_unavailable'));
    expect(types).toEqual(expect.arrayContaining(['call_started', 'transfer']));
    expect(types).not.toContain('fail_closed');
    expect(await metric(t, /^vaultline_degraded_turns_total\{outcome="self_service"\} (\d+)$/m)).toBe(2);
  });

  it('then 1 and 2 go to the agent queue unverified, with no code spoken and no session', async () => {
    const { t, outage } = await start();
    await outage();
    for (const key of ['1', '2']) {
      const call = caller(t);
      await call.dial();
      const answer = await call.press(key);
      expect(heard(answer)).toMatch(APOLOGY);
      expect(spokenCode(answer)).toBeUndefined();
      expect(heard(answer)).not.toMatch(/code/i);
      expect(answer.enqueue).toBe('agents-unverified');
      expect(answer.gather).toBeUndefined();
      expect(auditTypes(t, call.callSid)).not.toContain('session_created');
    }
    expect(await metric(t, /^vaultline_degraded_turns_total\{outcome="agent"\} (\d+)$/m)).toBe(2);
  });

  it('then a caller already in the menu when the store goes keeps going: Spanish, a wrong key, silence, the agent', async () => {
    const { t, outage } = await start();
    const call = caller(t);
    expect(heard(await call.dial())).toMatch(MAIN_MENU);
    await outage();

    const spanish = await call.press('9');
    expect(heard(spanish)).toMatch(SPANISH_MENU);
    expect(spanish.raw).toContain('<Say language="es-US">');
    expect(heard(await call.press('7'))).toMatch(/esa no es una opción/);
    expect(heard(await call.silence())).toMatch(/no recibimos su selección/);
    const agent = await call.press('0');
    expect(agent.enqueue).toBe('agents-unverified');
    expect(auditTypes(t, call.callSid)).toEqual(expect.arrayContaining(['language_selected', 'degraded']));

    // The call's end cannot use the store either: call_ended goes to the trail directly (A10).
    const ended = await call.hangUp();
    expect(ended.status).toBe(200);
    const end = t.logs.map((l) => l.audit as { type?: string; callId?: string; outcome?: string } | undefined).find((a) => a?.type === 'call_ended' && a.callId === call.callSid);
    // Its outcome is read from the in-process buffer and the trail; a batch being written stays in
    // the buffer until the trail has it (src/audit/drainer.ts), so the transfer is always seen.
    expect(end?.outcome).toBe('transferred');
    expect(auditTypes(t, call.callSid)).not.toContain('fail_closed');
  });

  it('then when the store comes back mid-call, the next turn is an ordinary one again, from where the call was', async () => {
    const { t, outage, restore } = await start();
    const call = caller(t);
    await call.dial();
    await outage();
    expect(heard(await call.press('9'))).toMatch(SPANISH_MENU);
    const degradedBefore = await metric(t, /^vaultline_degraded_turns_total\{outcome="self_service"\} (\d+)$/m);
    await restore();
    // After the restore: a stopped store comes back empty, devices included.
    const device = await enrollDevice(t);

    // An ordinary turn: a verification session, its code spoken in the call's language (es-US).
    const gate = await call.press('1');
    expect(heard(gate)).toMatch(/Su código es/);
    const did = spokenCode(gate) ?? heard(gate).match(/código es ([\d,\s]+)/)?.[1]?.replace(/\D/g, '');
    expect(did).toMatch(/^\d{6}$/);
    expect(await metric(t, /^vaultline_degraded_turns_total\{outcome="self_service"\} (\d+)$/m)).toBe(degradedBefore);
    expect((await device.confirm(did ?? '')).status).toBe(200);
    const verified = await call.fetch(t.twilioFake.callUpdates()[0]?.form.Url ?? '');
    expect(heard(verified)).toMatch(/saldo disponible es/);

    const timeline = ((await t.built.deps.audit.timeline(call.callSid)) ?? []).map((e) => e.type);
    expect(timeline).toEqual(expect.arrayContaining(['degraded', 'language_selected', 'session_created', 'balance_read']));
  });

  it('then a tampered or foreign carried state is 403 like a bad signature, after the signature check, with no effect', async () => {
    const { t, outage } = await start();
    const call = caller(t);
    const action = (await call.dial()).gather?.action ?? '';
    await outage();
    const path = action.slice(PUBLIC_BASE_URL.length);
    const form = (callSid: string) => ({ CallSid: callSid, AccountSid: t.config.twilio.accountSid, From: '+14155550101', To: '+18005550199', Digits: '0' });
    const degradedLines = () => t.logs.filter((l) => (l.audit as { type?: string } | undefined)?.type === 'degraded').length;
    const before = degradedLines();

    const sealed = /&d=([A-Za-z0-9_-]+)/.exec(path)?.[1] ?? '';
    const flipped = `${sealed.slice(0, 30)}${sealed[30] === 'A' ? 'B' : 'A'}${sealed.slice(31)}`;
    const refusals = [
      await t.twilioPost(path.replace(sealed, flipped), form(call.callSid)), // tampered
      await t.twilioPost(path, form(caller(t).callSid)), // another call's state
      await t.twilioPost(path.replace('t=1', 't=2'), form(call.callSid)), // moved to another turn
      await t.twilioPost(path.replace('/step', '/resume'), form(call.callSid)), // moved to another route
    ];
    for (const res of refusals) {
      expect(res.status).toBe(403);
      expect(res.text).toBe('Forbidden');
    }
    // The signature is checked first: a bad signature on a good state is the signature's refusal.
    const unsigned = await request(t.app).post(path).type('form').set('X-Twilio-Signature', 'bm90IGEgc2lnbmF0dXJl').send(form(call.callSid));
    expect(unsigned.status).toBe(403);
    const metrics = (await request(t.app).get('/metrics')).text;
    expect(metrics).toMatch(/vaultline_webhook_refusals_total\{status="403",reason="sealed_state"\} 4/);
    expect(metrics).toMatch(/vaultline_webhook_refusals_total\{status="403",reason="mismatch"\} 1/);
    expect(degradedLines()).toBe(before);

    // The genuine URL still works, and replaying it repeats only its own low-risk step.
    for (let i = 0; i < 2; i++) expect((await t.twilioPost(path, form(call.callSid))).text).toMatch(/agents-unverified/);
  });

  it('then with FAIL_MODE=closed nothing changes: the apology and the agent queue, and no state in the URLs', async () => {
    const { t, outage } = await start({});
    const before = caller(t);
    expect((await before.dial()).gather?.action).toBe(`${PUBLIC_BASE_URL}/twilio/step?t=1`);
    await outage();
    const answer = await caller(t).dial();
    expect(heard(answer)).toMatch(APOLOGY);
    expect(answer.enqueue).toBe('agents-unverified');
    expect(answer.gather).toBeUndefined();
    expect(await metric(t, /^vaultline_degraded_turns_total\{outcome="self_service"\} (\d+)$/m)).toBe(0);
  });
});

describe('FAIL_MODE=open-low-risk, store a read-only replica (a failover, DESIGN A12)', () => {
  let t: TestApp | undefined;
  const servers: RedisServer[] = [];
  let admin: Redis | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
    admin?.disconnect();
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('then a new caller hears the welcome and the main menu, and 1 goes to the agent unverified with no code', async () => {
    const primary = await startRedisServer();
    const other = await startRedisServer();
    servers.push(primary, other);
    t = await startTestApp({ redisUrl: primary.url, env: { FAIL_MODE: 'open-low-risk' } });
    admin = new Redis(primary.url);
    await admin.replicaof('127.0.0.1', String(other.port));
    const app = t.app;
    await eventually(async () => expect((await request(app).get('/readyz')).status).toBe(503), 2000);

    const call = caller(t);
    const first = await call.dial();
    expect(heard(first)).toMatch(MAIN_MENU);
    const answer = await call.press('1');
    expect(heard(answer)).toMatch(APOLOGY);
    expect(spokenCode(answer)).toBeUndefined();
    expect(answer.enqueue).toBe('agents-unverified');
    const reasons = degradedReasons(t, call.callSid);
    // Each READONLY reply makes the client reconnect to find a primary (the drainer's and /readyz's
    // writes too), so a turn meets either the refusal or the reconnect: both are the outage.
    expect(reasons).toHaveLength(2);
    for (const reason of reasons) expect(['store_readonly', 'store_unavailable']).toContain(reason);
  });

  it('when the store refuses with READONLY, times out or is gone, then the degraded event names which', () => {
    expect(degradedReason(new Error("READONLY You can't write against a read only replica."))).toBe('store_readonly');
    expect(degradedReason(new Error('Command timed out'))).toBe('store_timeout');
    expect(degradedReason(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe('store_unavailable');
  });
});
