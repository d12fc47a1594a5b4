import type { NodeOf } from '../../flows/schema.js';
import { spokenDigits, spokenMonth } from '../prompts.js';
import type { CallState, Output } from '../types.js';
import { effect, gather, goto, unexpected, wait, type Handler, type NodeContext, type Turn } from './context.js';

/**
 * Runs a backend action (balance, statement-sms…), first asking which account when the node says so
 * and the customer has several (of the node's `types`), then which month when `period: choose` and the
 * account has more than one statement. The accounts themselves are never kept in CallState: a wrong
 * key lists them again, so the state holds only how many there were; the months offered are kept
 * (they are not customer data, and the digit must mean the month the caller heard).
 *
 * Phases: listing (accounts.list sent), choosing (at rest: gather the account digit),
 * dating (statements.list sent), picking (at rest: gather the month digit), acting (action sent).
 */

type Ctx = NodeContext<NodeOf<'action'>>;

/** One keypad digit per account (A3: the digit is the account's position). */
const MAX_ACCOUNTS = 9;
/** A3: the latest 3 statements at most. */
const MAX_PERIODS = 3;

const listsAccounts = (ctx: Ctx) => ctx.node.chooseAccount || ctx.node.types !== undefined;

export const action: Handler<NodeOf<'action'>> = {
  enter: (ctx) => (listsAccounts(ctx) && ctx.state.accountIndex === undefined ? list(ctx, ctx.state) : afterAccount(ctx, ctx.state)),
  input(ctx, input) {
    const { phase } = ctx.state;
    const resting = phase === 'choosing' || phase === 'picking';
    switch (input.kind) {
      case 'digits':
        if (phase === 'choosing') return choose(ctx, input.digits);
        return phase === 'picking' ? pick(ctx, input.digits) : unexpected(ctx, input);
      case 'no_input':
        return resting ? retry(ctx, []) : unexpected(ctx, input);
      case 'resume':
        // Redirected while choosing: ask again, it costs no attempt.
        return resting ? again(ctx, ctx.state) : unexpected(ctx, input);
      case 'effect':
        break;
    }
    const { result } = input;
    switch (result.kind) {
      case 'accounts':
        return offer(ctx, result.accounts);
      case 'periods':
        return offerPeriods(ctx, ctx.state, result.periods.slice(0, MAX_PERIODS));
      case 'action.done':
        return goto(ctx.state, ctx.node.next ?? ctx.flow.home, [ctx.say(result.prompt, result.params)]);
      case 'action.failed':
        return goto(ctx.state, ctx.node.onFailure ?? ctx.flow.home, [ctx.say(result.prompt, result.params)]);
      case 'action.unverified':
        // The token expired or was revoked: back through the gate, which opens a new session.
        return goto({ ...ctx.state, verified: false }, ctx.node.gate ?? ctx.flow.home);
      default:
        return unexpected(ctx, input);
    }
  },
};

const withTypes = (ctx: Ctx) => (ctx.node.types === undefined ? {} : { types: ctx.node.types });

const list = (ctx: Ctx, state: CallState, outputs: Output[] = []): Turn =>
  effect({ ...state, phase: 'listing' }, { kind: 'accounts.list', action: ctx.node.action, ...withTypes(ctx) }, outputs);

/** The account is settled: ask for the months when the node chooses them, else act. */
function afterAccount(ctx: Ctx, state: CallState): Turn {
  if (ctx.node.period !== 'choose') return act(ctx, state, ctx.node.period);
  const { accountIndex } = state;
  return effect({ ...state, phase: 'dating' }, {
    kind: 'statements.list',
    action: ctx.node.action,
    ...(accountIndex === undefined ? {} : { accountIndex }),
    ...withTypes(ctx),
  });
}

function act(ctx: Ctx, state: CallState, period: string | undefined): Turn {
  const { accountIndex } = state;
  return effect({ ...state, phase: 'acting' }, {
    kind: 'action',
    action: ctx.node.action,
    ...(accountIndex === undefined ? {} : { accountIndex }),
    ...(period === undefined ? {} : { period }),
    ...withTypes(ctx),
  });
}

function offer(ctx: Ctx, accounts: readonly { last4: string }[]): Turn {
  const shown = accounts.slice(0, MAX_ACCOUNTS);
  // Limited to types and none of them: say so (e.g. "you have no savings account") instead of failing later.
  if (shown.length === 0 && ctx.node.types !== undefined) {
    return goto(ctx.state, ctx.node.onFailure ?? ctx.flow.home, [ctx.say(ctx.node.prompts.none)]);
  }
  // With none the backend decides what to say; with one, or without chooseAccount, the first is used.
  if (shown.length <= 1 || !ctx.node.chooseAccount) {
    return afterAccount(ctx, shown.length >= 1 ? { ...ctx.state, accountIndex: 1 } : ctx.state);
  }
  const outputs = shown.map((a, i) =>
    // A3: "account ending in 1 2 3 4".
    ctx.say(ctx.node.prompts.accountOption, { last4: spokenDigits(a.last4, ' '), n: String(i + 1) }),
  );
  return wait({ ...ctx.state, phase: 'choosing', accountCount: shown.length }, gather(ctx.node.timeoutSeconds), outputs);
}

/** A3: the period question only when there is more than one statement; each option names its month. */
function offerPeriods(ctx: Ctx, state: CallState, periods: readonly string[], before: Output[] = []): Turn {
  // None: the backend says it has no statement (its failure prompt); one: no question.
  if (periods.length <= 1) return act(ctx, state, periods[0] ?? 'latest');
  const outputs = periods.map((p, i) => ctx.say(ctx.node.prompts.periodOption, { month: spokenMonth(p, state.locale), n: String(i + 1) }));
  return wait({ ...state, phase: 'picking', periods: [...periods] }, gather(ctx.node.timeoutSeconds), [...before, ...outputs]);
}

function choose(ctx: Ctx, digits: string): Turn {
  const n = /^[1-9]$/.test(digits) ? Number(digits) : 0;
  if (n < 1 || n > (ctx.state.accountCount ?? 0)) return retry(ctx, [ctx.say(ctx.node.prompts.invalid)]);
  const { accountCount: _shown, ...state } = ctx.state;
  return afterAccount(ctx, { ...state, accountIndex: n, attempts: 0 });
}

function pick(ctx: Ctx, digits: string): Turn {
  const periods = ctx.state.periods ?? [];
  const n = /^[1-9]$/.test(digits) ? Number(digits) : 0;
  const period = periods[n - 1];
  if (period === undefined) return retry(ctx, [ctx.say(ctx.node.prompts.periodInvalid)]);
  const { periods: _offered, ...state } = ctx.state;
  return act(ctx, state, period);
}

/** Plays the current question again: the accounts are listed afresh, the months come from the state. */
const again = (ctx: Ctx, state: CallState, outputs: Output[] = []): Turn =>
  state.phase === 'picking' ? offerPeriods(ctx, state, state.periods ?? [], outputs) : list(ctx, state, outputs);

function retry(ctx: Ctx, outputs: Output[]): Turn {
  const attempts = ctx.state.attempts + 1;
  if (attempts >= ctx.node.maxAttempts) return goto(ctx.state, ctx.node.onFailure ?? ctx.flow.home, outputs);
  return again(ctx, { ...ctx.state, attempts }, outputs);
}
