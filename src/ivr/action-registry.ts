import { AppError } from '../shared/errors.js';
import type { ProtectedActions, ProtectedCall } from './protected-actions.js';

/**
 * Every action a flow's `action` node may name, in one place: what it runs, whether it needs a verify
 * gate, and the prompts it answers with. The validator (unknown names, gates, prompt keys and their
 * placeholders), the engine's action runner and the docs table in docs/flows.md all read this Record,
 * so a new action is one entry here (and a row in that table, which test/flows-docs.test.ts checks).
 */

/** A prompt an action answers with: its key in the flow and the placeholders the action fills. */
export interface ActionPrompt {
  key: string;
  params: readonly string[];
}

/** What `run` gets: the bank-side use cases and the verified call (account position, period). */
export interface ActionRun {
  actions: ProtectedActions;
  call: ProtectedCall & { period?: string };
}

/** Which of the action's prompts to say and with what; `ok: false` goes to the node's `onFailure`. */
export interface ActionOutcome<P extends string> {
  ok: boolean;
  prompt: P;
  params: Record<string, string>;
}

export interface ActionDefinition<P extends string = string> {
  /** One line for docs/flows.md and the diagram. */
  summary: string;
  /** Reads or sends customer data: reachable only through a verify node (DESIGN A3). */
  protected: boolean;
  /**
   * The prompts it may answer with, by role. `failed` is required: it is said when the bank, the
   * store or the SMS fails (an AppError from `run`), and the call goes to `onFailure`.
   */
  prompts: Record<P, ActionPrompt> & { failed: ActionPrompt };
  run(input: ActionRun): Promise<ActionOutcome<P | 'failed'>>;
  /**
   * Asked before the account and month questions: an outcome ends the action there (e.g. the call has
   * had its 3 statement SMS, so it is not asked which month first); null goes on.
   */
  before?(input: ActionRun): Promise<ActionOutcome<P | 'failed'> | null>;
}

const define = <P extends string>(d: ActionDefinition<P>): ActionDefinition<P> => d;

export const ACTIONS = {
  balance: define({
    summary: 'reads the available balance of the chosen account',
    protected: true,
    prompts: {
      done: { key: 'balance.result', params: ['last4', 'amount'] },
      failed: { key: 'balance.unavailable', params: [] },
    },
    async run({ actions, call }) {
      const answer = await actions.balance(call);
      return { ok: true, prompt: 'done', params: { last4: answer.last4Spoken, amount: answer.amountSpoken } };
    },
  }),
  'statement-sms': define({
    summary: 'texts a single-use link to the statement of the chosen account (`period`) to the mobile on file',
    protected: true,
    prompts: {
      done: { key: 'statement.sent', params: ['last4'] },
      failed: { key: 'statement.unavailable', params: [] },
      // A3: at most 3 statement SMS per call; a further request is told so and goes back to the menu.
      limit: { key: 'statement.limit', params: [] },
    },
    async run({ actions, call }): Promise<ActionOutcome<'done' | 'limit' | 'failed'>> {
      try {
        const sent = await actions.statementSms(call);
        return { ok: true, prompt: 'done', params: { last4: sent.last4Spoken } };
      } catch (err) {
        // Two requests of one call racing past `before`: the store's count is the one that decides.
        if (err instanceof AppError && err.code === 'sms_limit') return { ok: false, prompt: 'limit', params: {} };
        throw err;
      }
    },
    async before({ actions, call }) {
      return (await actions.statementSmsAllowed(call)) ? null : { ok: false, prompt: 'limit', params: {} };
    },
  }),
} satisfies Record<string, ActionDefinition>;

export type ActionName = keyof typeof ACTIONS;

/** Every action name, in registry order (for messages: "one of balance, statement-sms"). */
export const ACTION_NAMES = Object.keys(ACTIONS) as [ActionName, ...ActionName[]];

export const isActionName = (name: string): name is ActionName => Object.hasOwn(ACTIONS, name);

/** The registry entry of a validated action name, widened so callers need not narrow the prompt roles. */
export const actionOf = (name: ActionName): ActionDefinition => ACTIONS[name] as ActionDefinition;
