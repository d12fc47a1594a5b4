import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createEngine, EngineError, type Engine } from '../src/engine/engine.js';
import { pickLocale, renderPrompt, spokenDigits } from '../src/engine/prompts.js';
import type { CallState, Effect, EffectResult, EngineInput, StepResult } from '../src/engine/types.js';
import { loadFlows, validateFlow } from '../src/flows/load.js';
import type { Flows } from '../src/flows/schema.js';
import { FIXTURE_FLOWS_DIR } from './support/flows.js';

// A fixture copy of the default flow, not the shipped flows/: the engine knows no language, and a flow
// author rewording flows/ must not break this file (the shipped wording has its conversation tests).
const fixtureFlows = loadFlows(FIXTURE_FLOWS_DIR);
const engine = createEngine(fixtureFlows);

// The fixture's English prompts.
const EN = {
  welcome: /^Thank you for calling Vaultline Bank/,
  menu: 'For your account balance, press 1. To get a statement by text message, press 2. To speak with an agent, press 0. Para español, oprima 9.',
  invalid: 'Sorry, that is not an option.',
  noInput: "Sorry, I didn't get your choice.",
  code: (spoken: string) =>
    `Your code is ${spoken}. Enter it in the Vaultline app, then press 1. To hear the code again, press 9. To cancel, press 0.`,
  newCode: (spoken: string) =>
    `Your code expired. Your new code is ${spoken}. Enter it in the Vaultline app, then press 1. To hear the code again, press 9. To cancel, press 0.`,
  waiting: 'We have not received your confirmation yet.',
  options: 'Once you have entered the code in the app, press 1. To hear the code again, press 9. To cancel, press 0.',
  verified: 'Thank you, you are verified.',
  canceled: 'Verification canceled.',
  unverifiedTransfer: 'We could not verify your identity. Please hold while we connect you to an agent who can help.',
  goodbye: 'Thank you for calling Vaultline Bank. Goodbye.',
};

const DID = '482913';
const SPOKEN_DID = '4, 8, 2, 9, 1, 3';

/** A scripted call: each action feeds the engine one input and keeps the last result. */
function call(e: Engine = engine, locale?: string) {
  let last: StepResult = e.start(locale);
  const send = (input: EngineInput) => (last = e.step(last.state, input));
  return {
    get last() {
      return last;
    },
    get state(): CallState {
      return last.state;
    },
    said: () => last.outputs.map((o) => (o.kind === 'say' ? o.text : `<pause ${o.seconds}>`)),
    effect: (): Effect | undefined => (last.next.kind === 'effect' ? last.next.effect : undefined),
    press: (digits: string) => send({ kind: 'digits', digits }),
    silence: () => send({ kind: 'no_input' }),
    resume: () => send({ kind: 'resume' }),
    answer: (result: EffectResult) => send({ kind: 'effect', result }),
  };
}
type Call = ReturnType<typeof call>;

/** Main menu → 1 → gate opened → code spoken. */
function atWaitLoop(c: Call = call()): Call {
  c.press('1');
  c.answer({ kind: 'verify.opened', did: DID, sessionId: 'sess_1' });
  return c;
}

/** …→ confirmed → one account → balance action effect. */
function verifiedAtBalance(c: Call = call()): Call {
  atWaitLoop(c).press('1');
  c.answer({ kind: 'verify.status', status: 'confirmed' });
  c.answer({ kind: 'accounts', accounts: [{ last4: '9876' }] });
  return c;
}

const gather = (timeoutSeconds: number) => ({ kind: 'gather', numDigits: 1, timeoutSeconds });
const unverifiedTransfer = { kind: 'transfer', queue: 'agents', verified: false };

describe('the main menu', () => {
  it('when a call starts, then the caller hears the welcome and the main menu and the first turn ends in a one-key gather', () => {
    const c = call();
    expect(c.said()).toEqual([expect.stringMatching(EN.welcome), EN.menu]);
    expect(c.last.next).toEqual(gather(6));
    expect(c.state).toMatchObject({ flowId: 'main', node: 'main-menu', locale: 'en-US', turn: 1, attempts: 0, verified: false });
  });

  it.each([
    ['1', 'balance-gate', { kind: 'effect', effect: { kind: 'verify.open' } }],
    ['2', 'statement-gate', { kind: 'effect', effect: { kind: 'verify.open' } }],
    ['0', 'agent', { kind: 'transfer', queue: 'agents', verified: false }],
  ])('when the caller presses %s, then the call moves to %s', (digit, node, next) => {
    const c = call();
    c.press(digit);
    expect(c.state.node).toBe(node);
    expect(c.last.next).toEqual(next);
  });

  it('when the caller presses a key that is not an option, then they hear so and the menu again, and it counts as an attempt', () => {
    const c = call();
    c.press('7');
    expect(c.said()).toEqual([EN.invalid, EN.menu]);
    expect(c.state).toMatchObject({ node: 'main-menu', attempts: 1, turn: 2 });
  });

  it('when the caller stays silent, then the menu repeats until maxAttempts and then the call says goodbye', () => {
    const c = call();
    c.silence();
    expect(c.said()).toEqual([EN.noInput, EN.menu]);
    c.silence();
    expect(c.state.attempts).toBe(2);
    c.silence();
    expect(c.said()).toEqual([EN.goodbye]);
    expect(c.last.next).toEqual({ kind: 'hangup' });
    expect(c.state).toMatchObject({ node: 'goodbye', attempts: 0 });
  });

  it('when a flow sends exhausted callers to an agent instead, then the third silence transfers them', () => {
    const raw = parseYaml(readFileSync(`${FIXTURE_FLOWS_DIR}/main.yaml`, 'utf8')) as { nodes: Record<string, Record<string, unknown>> };
    raw.nodes['main-menu'] = { ...raw.nodes['main-menu'], onExhausted: 'agent', maxAttempts: 2 };
    const c = call(engineOf(validateFlow(raw, 'main.yaml')));
    c.silence();
    c.silence();
    expect(c.last.next).toEqual({ kind: 'transfer', queue: 'agents', verified: false });
  });

  it('when the backend redirects the call while it sits at the menu, then the menu is replayed at no cost', () => {
    const c = call();
    c.resume();
    expect(c.said()).toEqual([EN.menu]);
    expect(c.state).toMatchObject({ attempts: 0, turn: 2 });
  });
});

describe('the verify gate', () => {
  it('when the gate opens, then the code is spoken in one say that calls it a code, and it is not kept in the state', () => {
    const c = call();
    c.press('1');
    expect(c.effect()).toEqual({ kind: 'verify.open' });
    expect(c.state.turn).toBe(1); // an effect does not end the turn
    c.answer({ kind: 'verify.opened', did: DID, sessionId: 'sess_1' });
    expect(c.said()).toEqual([EN.code(SPOKEN_DID)]);
    expect(c.last.next).toEqual(gather(8));
    expect(c.state).toMatchObject({ node: 'balance-gate', phase: 'waiting', turn: 2, verify: { sessionId: 'sess_1', reissues: 0, loops: 0 } });
    expect(JSON.stringify(c.state)).not.toMatch(/4\D*8\D*2\D*9\D*1\D*3/);
  });

  it('when the caller walks the wait loop (9, silence, resume, 1), then each turn re-checks the session until it is confirmed and the action runs', () => {
    const c = atWaitLoop();
    const story: [string, () => unknown, Effect | undefined, EffectResult, string[]][] = [
      ['presses 9', () => c.press('9'), { kind: 'verify.repeat' }, { kind: 'verify.did', did: DID }, [EN.code(SPOKEN_DID)]],
      ['stays silent', () => c.silence(), { kind: 'verify.status' }, { kind: 'verify.status', status: 'pending' }, [EN.waiting, EN.options]],
      ['is redirected', () => c.resume(), { kind: 'verify.status' }, { kind: 'verify.status', status: 'pending' }, [EN.waiting, EN.options]],
      ['presses 1', () => c.press('1'), { kind: 'verify.status' }, { kind: 'verify.status', status: 'pending' }, [EN.waiting, EN.options]],
    ];
    for (const [, act, effect, result, said] of story) {
      act();
      expect(c.effect()).toEqual(effect);
      c.answer(result);
      expect(c.said()).toEqual(said);
      expect(c.last.next).toEqual(gather(8));
      expect(JSON.stringify(c.state)).not.toContain(DID);
    }
    expect(c.state.verify).toMatchObject({ loops: 4 });

    c.press('1');
    c.answer({ kind: 'verify.status', status: 'confirmed' });
    expect(c.said()).toEqual([EN.verified]);
    expect(c.effect()).toEqual({ kind: 'accounts.list', action: 'balance' });
    expect(c.state).toMatchObject({ node: 'balance', verified: true });
    expect(c.state.verify).toBeUndefined();
  });

  it('when the caller presses a key the wait loop does not know, then they hear the options again without the code', () => {
    const c = atWaitLoop();
    c.press('5');
    expect(c.said()).toEqual([EN.invalid, EN.options]);
    expect(c.state).toMatchObject({ phase: 'waiting', verify: { loops: 1 } });
  });

  it('when the wait loop runs past maxLoops, then the session is canceled as a timeout and the caller goes to an agent unverified', () => {
    const c = atWaitLoop();
    for (let loop = 1; loop <= 10; loop++) {
      c.silence();
      c.answer({ kind: 'verify.status', status: 'pending' });
      expect(c.last.next).toEqual(gather(8));
    }
    c.silence();
    c.answer({ kind: 'verify.status', status: 'pending' });
    expect(c.effect()).toEqual({ kind: 'verify.cancel', reason: 'timeout' });
    c.answer({ kind: 'verify.canceled' });
    expect(c.said()).toEqual([EN.unverifiedTransfer]);
    expect(c.last.next).toEqual(unverifiedTransfer);
  });

  it('when the code expires, then one new code is issued, and when that expires too the caller goes to an agent unverified', () => {
    const c = atWaitLoop();
    c.press('1');
    c.answer({ kind: 'verify.status', status: 'expired' });
    expect(c.effect()).toEqual({ kind: 'verify.reissue' });
    c.answer({ kind: 'verify.reissued', did: '551907', sessionId: 'sess_2' });
    expect(c.said()).toEqual([EN.newCode('5, 5, 1, 9, 0, 7')]);
    expect(c.state.verify).toEqual({ sessionId: 'sess_2', reissues: 1, loops: 0 });

    c.silence();
    c.answer({ kind: 'verify.status', status: 'expired' });
    expect(c.said()).toEqual([EN.unverifiedTransfer]);
    expect(c.last.next).toEqual(unverifiedTransfer);
  });

  it.each<[string, EffectResult]>([
    ['the session was canceled elsewhere', { kind: 'verify.status', status: 'canceled' }],
    ['the call has ended', { kind: 'verify.status', status: 'call_ended' }],
    ['the verification service is unavailable', { kind: 'verify.unavailable' }],
  ])('when %s, then the caller goes to the fallback transfer unverified', (_story, result) => {
    const c = atWaitLoop();
    c.press('1');
    c.answer(result);
    expect(c.state.node).toBe('agent-unverified');
    expect(c.last.next).toEqual(unverifiedTransfer);
  });

  it('when the store fails as the gate opens, then the caller goes straight to the fallback transfer', () => {
    const c = call();
    c.press('1');
    c.answer({ kind: 'verify.unavailable' });
    expect(c.last.next).toEqual(unverifiedTransfer);
  });

  it('when the caller presses 0, then the session is canceled and they are back at the main menu', () => {
    const c = atWaitLoop();
    c.press('0');
    expect(c.effect()).toEqual({ kind: 'verify.cancel', reason: 'caller' });
    c.answer({ kind: 'verify.canceled' });
    expect(c.said()).toEqual([EN.canceled, EN.menu]);
    expect(c.state).toMatchObject({ node: 'main-menu', verified: false });
    expect(c.state.verify).toBeUndefined();
  });

  it('when the call is already verified, then the gate is passed without a second code (A3)', () => {
    const c = verifiedAtBalance();
    c.answer({ kind: 'action.done', prompt: 'balance.result', params: { last4: '9 8 7 6', amount: '$1,250.50' } });
    c.press('2');
    expect(c.effect()).toEqual({ kind: 'verify.open' });
    c.answer({ kind: 'verify.already_verified' });
    expect(c.said()).toEqual([]);
    expect(c.effect()).toEqual({ kind: 'accounts.list', action: 'statement-sms' });
    expect(c.state).toMatchObject({ node: 'statement-sms', verified: true });
  });

  it('when a verified call later meets a gate that has to open a new session and it fails, then the transfer is unverified', () => {
    const c = verifiedAtBalance();
    c.answer({ kind: 'action.done', prompt: 'balance.result', params: { last4: '9 8 7 6', amount: '$1' } });
    c.press('2');
    c.answer({ kind: 'verify.opened', did: DID, sessionId: 'sess_9' });
    expect(c.state.verified).toBe(false);
    c.press('1');
    c.answer({ kind: 'verify.unavailable' });
    expect(c.last.next).toEqual(unverifiedTransfer);
  });

  it('when a verified call meets a gate and the store fails as it opens, then the transfer is unverified (fail closed)', () => {
    const c = verifiedAtBalance();
    c.answer({ kind: 'action.done', prompt: 'balance.result', params: { last4: '9 8 7 6', amount: '$1' } });
    c.press('2');
    c.answer({ kind: 'verify.unavailable' });
    expect(c.last.next).toEqual(unverifiedTransfer);
  });

  it('when a verified caller asks for an agent, then the transfer says so', () => {
    const c = verifiedAtBalance();
    c.answer({ kind: 'action.done', prompt: 'balance.result', params: { last4: '9 8 7 6', amount: '$1' } });
    c.press('0');
    expect(c.last.next).toEqual({ kind: 'transfer', queue: 'agents', verified: true });
  });
});

describe('protected actions', () => {
  it('when the customer has one account, then the action runs on it and the caller is back at the main menu, still verified', () => {
    const c = verifiedAtBalance();
    expect(c.effect()).toEqual({ kind: 'action', action: 'balance', accountIndex: 1 });
    c.answer({ kind: 'action.done', prompt: 'balance.result', params: { last4: '9 8 7 6', amount: '$1,250.50' } });
    expect(c.said()).toEqual(['For account ending in 9 8 7 6, your available balance is $1,250.50.', EN.menu]);
    expect(c.state).toMatchObject({ node: 'main-menu', verified: true, attempts: 0 });
    expect(c.state.accountIndex).toBeUndefined();
  });

  it('when the customer has several accounts, then each is read by position with its last four digits spaced, and the key picks it', () => {
    const c = atWaitLoop();
    c.press('1');
    c.answer({ kind: 'verify.status', status: 'confirmed' });
    c.answer({ kind: 'accounts', accounts: [{ last4: '1234' }, { last4: '5678' }] });
    expect(c.said()).toEqual(['For account ending in 1 2 3 4, press 1.', 'For account ending in 5 6 7 8, press 2.']);
    expect(c.last.next).toEqual(gather(6));
    expect(c.state).toMatchObject({ node: 'balance', phase: 'choosing', accountCount: 2 });
    expect(JSON.stringify(c.state)).not.toContain('1234');

    c.press('3');
    expect(c.said()).toEqual(['Sorry, that is not one of your accounts.']);
    expect(c.effect()).toEqual({ kind: 'accounts.list', action: 'balance' });
    c.answer({ kind: 'accounts', accounts: [{ last4: '1234' }, { last4: '5678' }] });
    c.press('2');
    expect(c.effect()).toEqual({ kind: 'action', action: 'balance', accountIndex: 2 });
  });

  it('when the caller never picks an account, then after maxAttempts they are back at the main menu', () => {
    const c = atWaitLoop();
    c.press('1');
    c.answer({ kind: 'verify.status', status: 'confirmed' });
    const accounts: EffectResult = { kind: 'accounts', accounts: [{ last4: '1234' }, { last4: '5678' }] };
    c.answer(accounts);
    c.silence();
    c.answer(accounts);
    c.silence();
    c.answer(accounts);
    c.silence();
    expect(c.said()).toEqual([EN.menu]);
    expect(c.state.node).toBe('main-menu');
  });

  it('when the action fails, then the caller hears the failure prompt and is back at the main menu', () => {
    const c = verifiedAtBalance();
    c.answer({ kind: 'action.failed', prompt: 'balance.unavailable', params: {} });
    expect(c.said()).toEqual([expect.stringMatching(/^Sorry, we can't get your balance right now/), EN.menu]);
    expect(c.state.node).toBe('main-menu');
  });

  it('when the backend says the call is no longer verified, then the caller goes back through the gate for a new code', () => {
    const c = verifiedAtBalance();
    c.answer({ kind: 'action.unverified' });
    expect(c.effect()).toEqual({ kind: 'verify.open' });
    expect(c.state).toMatchObject({ node: 'balance-gate', verified: false });
    expect(c.state.accountIndex).toBeUndefined();
    c.answer({ kind: 'verify.opened', did: '777111', sessionId: 'sess_3' });
    expect(c.said()).toEqual([EN.code('7, 7, 7, 1, 1, 1')]);
  });

  it('when the statement is sent, then the action named the flow prompt and its parameters fill it', () => {
    const c = verifiedAtBalance();
    c.answer({ kind: 'action.done', prompt: 'balance.result', params: { last4: '9 8 7 6', amount: '$1' } });
    c.press('2');
    c.answer({ kind: 'verify.already_verified' });
    c.answer({ kind: 'accounts', accounts: [{ last4: '9876' }] });
    expect(c.effect()).toEqual({ kind: 'statements.list', action: 'statement-sms', accountIndex: 1 });
    c.answer({ kind: 'periods', periods: ['2026-10'] });
    expect(c.effect()).toEqual({ kind: 'action', action: 'statement-sms', accountIndex: 1, period: '2026-10' });
    c.answer({ kind: 'action.done', prompt: 'statement.sent', params: { last4: '0 1 0 1' } });
    expect(c.said()[0]).toMatch(/^We've sent a link to your mobile ending in 0 1 0 1\./);
  });

  it('when the account has several statements, then each of the latest 3 is offered by its month and the chosen one is sent', () => {
    const c = verifiedAtBalance();
    c.answer({ kind: 'action.done', prompt: 'balance.result', params: { last4: '9 8 7 6', amount: '$1' } });
    c.press('2');
    c.answer({ kind: 'verify.already_verified' });
    c.answer({ kind: 'accounts', accounts: [{ last4: '9876' }] });
    c.answer({ kind: 'periods', periods: ['2026-10', '2026-09', '2026-08', '2026-07'] });
    expect(c.said()).toEqual(['For October 2026, press 1.', 'For September 2026, press 2.', 'For August 2026, press 3.']);
    c.press('4');
    expect(c.said()).toEqual(['Sorry, that is not one of your statements.', 'For October 2026, press 1.', 'For September 2026, press 2.', 'For August 2026, press 3.']);
    c.press('2');
    expect(c.effect()).toEqual({ kind: 'action', action: 'statement-sms', accountIndex: 1, period: '2026-09' });
  });
});

describe('locales', () => {
  it.each([
    ['es-US', 'es-US'],
    ['es-us', 'es-US'],
    ['es-MX', 'es-US'],
    ['fr-CA', 'en-US'],
    [undefined, 'en-US'],
  ])('when the call starts in %s, then the flow speaks %s', (wanted, locale) => {
    const c = call(engine, wanted);
    expect(c.state.locale).toBe(locale);
    expect(c.last.outputs.every((o) => o.kind === 'say' && o.locale === locale)).toBe(true);
  });

  it('when a Spanish caller verifies, then the code prompt is the Spanish one with the same spoken digits', () => {
    const c = call(engine, 'es-US');
    c.press('1');
    c.answer({ kind: 'verify.opened', did: DID, sessionId: 'sess_1' });
    expect(c.said()).toEqual([`Su código es ${SPOKEN_DID}. Ingréselo en la aplicación Vaultline y luego oprima 1. Para escuchar el código otra vez, oprima 9. Para cancelar, oprima 0.`]);
  });

  it('when a redirect enters a flow without the caller locale, then that flow speaks its default', () => {
    const english = validateFlow(
      { id: 'english', locales: ['en-US'], start: 'bye', prompts: { 'en-US': { bye: 'Bye.' } }, nodes: { bye: { kind: 'hangup', prompt: 'bye' } } },
      'english.json',
    );
    const main = validateFlow(
      {
        id: 'main', locales: ['en-US', 'es-US'], start: 'go',
        prompts: { 'en-US': {}, 'es-US': {} },
        nodes: { go: { kind: 'redirect', flow: 'english', node: 'bye' } },
      },
      'main.json',
      { flowById: () => english },
    );
    const e = createEngine({ main, byId: new Map([['main', main], ['english', english]]) });
    const first = e.start('es-US');
    expect(first.state).toMatchObject({ flowId: 'english', node: 'bye', locale: 'en-US' });
    expect(first.outputs).toEqual([{ kind: 'say', text: 'Bye.', locale: 'en-US' }]);
  });
});

describe('when something is wrong', () => {
  it('when the saved state names a node the flows no longer have, then an EngineError says which', () => {
    const c = call();
    expect(() => engine.step({ ...c.state, node: 'gone' }, { kind: 'digits', digits: '1' })).toThrow(
      expect.objectContaining({ code: 'unknown_node' }),
    );
  });

  it('when the driver feeds an effect result to a menu, then the engine refuses it without echoing the result', () => {
    const c = call();
    let caught: unknown;
    try {
      c.answer({ kind: 'verify.did', did: DID });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(EngineError);
    expect(caught).toMatchObject({ code: 'unexpected_input' });
    expect(String(caught)).not.toContain(DID);
  });

  it('when the backend names a prompt the flow lacks, then an EngineError names the prompt', () => {
    const c = verifiedAtBalance();
    expect(() => c.answer({ kind: 'action.done', prompt: 'balance.nope', params: {} })).toThrow(
      expect.objectContaining({ code: 'missing_prompt' }),
    );
  });

  it('when the webhooks fail mid-call, then the fail-closed apology comes from the main flow', () => {
    expect(engine.failClosedSpeech()).toEqual({
      text: 'Sorry, we are having a technical problem. Please hold while we connect you to an agent.',
      locale: 'en-US',
      queue: 'agents',
    });
    expect(engine.failClosedSpeech('es-US').text).toMatch(/^Lo sentimos/);
  });
});

describe('prompt helpers', () => {
  it.each([
    ['482913', ', ', '4, 8, 2, 9, 1, 3'],
    ['1234', ' ', '1 2 3 4'],
    ['12-34', ' ', '1 2 3 4'],
  ])('when %s is spoken with separator "%s", then it reads %s', (digits, sep, spoken) => {
    expect(spokenDigits(digits, sep)).toBe(spoken);
  });

  it('when a placeholder has no value, then rendering throws instead of saying "{amount}"', () => {
    expect(renderPrompt('Hi {name}.', { name: 'Ada' })).toBe('Hi Ada.');
    expect(() => renderPrompt('Balance {amount}.', {})).toThrow(/\{amount\}/);
  });

  it('when no locale is wanted, then the first is the default', () => {
    expect(pickLocale(['es-US', 'en-US'])).toBe('es-US');
  });
});

function engineOf(main: Flows['main']): Engine {
  return createEngine({ main, byId: new Map([[main.id, main]]) });
}
