import type { NodeOf } from '../../flows/schema.js';
import { spokenDigits } from '../prompts.js';
import type { CallState, Output } from '../types.js';
import { effect, gather, goto, unexpected, wait, type Handler, type NodeContext, type Turn } from './context.js';

/**
 * Runs a backend action (balance, statement-sms…), first asking which account when the node says so
 * and the customer has several. The accounts themselves are never kept in CallState: a wrong key lists
 * them again, so the state holds only how many there were.
 *
 * Phases: listing (accounts.list sent), choosing (at rest: gather the account digit), acting (action sent).
 */

type Ctx = NodeContext<NodeOf<'action'>>;

/** One keypad digit per account (A3: the digit is the account's position). */
const MAX_ACCOUNTS = 9;

export const action: Handler<NodeOf<'action'>> = {
  enter: (ctx) => (ctx.node.chooseAccount && ctx.state.accountIndex === undefined ? list(ctx, ctx.state) : act(ctx, ctx.state)),
  input(ctx, input) {
    const choosing = ctx.state.phase === 'choosing';
    switch (input.kind) {
      case 'digits':
        return choosing ? choose(ctx, input.digits) : unexpected(ctx, input);
      case 'no_input':
        return choosing ? retry(ctx, []) : unexpected(ctx, input);
      case 'resume':
        // Redirected while choosing: read the accounts again, it costs no attempt.
        return choosing ? list(ctx, ctx.state) : unexpected(ctx, input);
      case 'effect':
        break;
    }
    const { result } = input;
    switch (result.kind) {
      case 'accounts':
        return offer(ctx, result.accounts);
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

const list = (ctx: Ctx, state: CallState, outputs: Output[] = []): Turn =>
  effect({ ...state, phase: 'listing' }, { kind: 'accounts.list', action: ctx.node.action }, outputs);

function act(ctx: Ctx, state: CallState): Turn {
  const { accountIndex } = state;
  const { period } = ctx.node;
  return effect({ ...state, phase: 'acting' }, {
    kind: 'action',
    action: ctx.node.action,
    ...(accountIndex === undefined ? {} : { accountIndex }),
    ...(period === undefined ? {} : { period }),
  });
}

function offer(ctx: Ctx, accounts: readonly { last4: string }[]): Turn {
  const shown = accounts.slice(0, MAX_ACCOUNTS);
  // With none the backend decides what to say; with one there is nothing to choose.
  if (shown.length <= 1) return act(ctx, shown.length === 1 ? { ...ctx.state, accountIndex: 1 } : ctx.state);
  const outputs = shown.map((a, i) =>
    // A3: "account ending in 1 2 3 4".
    ctx.say(ctx.node.prompts.accountOption, { last4: spokenDigits(a.last4, ' '), n: String(i + 1) }),
  );
  return wait({ ...ctx.state, phase: 'choosing', accountCount: shown.length }, gather(ctx.node.timeoutSeconds), outputs);
}

function choose(ctx: Ctx, digits: string): Turn {
  const n = /^[1-9]$/.test(digits) ? Number(digits) : 0;
  if (n < 1 || n > (ctx.state.accountCount ?? 0)) return retry(ctx, [ctx.say(ctx.node.prompts.invalid)]);
  const { accountCount: _shown, ...state } = ctx.state;
  return act(ctx, { ...state, accountIndex: n });
}

function retry(ctx: Ctx, outputs: Output[]): Turn {
  const attempts = ctx.state.attempts + 1;
  if (attempts >= ctx.node.maxAttempts) return goto(ctx.state, ctx.node.onFailure ?? ctx.flow.home, outputs);
  return list(ctx, { ...ctx.state, attempts }, outputs);
}
