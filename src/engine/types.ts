/**
 * The IVR engine's own words (STYLE habit 5): no Twilio here. The engine is pure:
 *   step(flow, state, input) → { outputs, state, next }
 * where `next` is either an effect the driver must run (its result comes back as the next input)
 * or the way the caller's turn ends (gather, transfer, hangup).
 */

export type Locale = string;

/** What the caller hears, in order. `text` is final speech (placeholders already filled). */
export type Output = { kind: 'say'; text: string; locale: Locale } | { kind: 'pause'; seconds: number };

/** How the caller's turn ends. */
export type Wait =
  | { kind: 'gather'; numDigits: number; timeoutSeconds: number }
  | { kind: 'transfer'; queue: string; verified: boolean }
  | { kind: 'hangup' };

/** Work only the backend can do; the driver runs it and feeds the result back. */
export type Effect =
  /** Open (or return the pending) verification session of this call. */
  | { kind: 'verify.open' }
  /** Current status of the call's session. */
  | { kind: 'verify.status' }
  /** The current session's DID again (for "press 9 to repeat"); never kept in engine state. */
  | { kind: 'verify.repeat' }
  /** The session expired: open a new one for the same call. */
  | { kind: 'verify.reissue' }
  /** `reason` tells the audit trail a caller's 0 (`canceled`) from an exhausted wait loop (`timeout`). */
  | { kind: 'verify.cancel'; reason?: 'caller' | 'timeout' }
  /**
   * A protected action (balance, statement-sms…). `accountIndex` is 1-based among the accounts of
   * `types` (all accounts when unset), the same list `accounts.list` offered.
   */
  | { kind: 'action'; action: string; accountIndex?: number; period?: string; types?: readonly string[] }
  /** Masked accounts of the verified customer (of `types`), for the account choice menu. */
  /** `action` names what the list is for, so a failing bank is answered with that action's apology. */
  | { kind: 'accounts.list'; action: string; types?: readonly string[] }
  /** The statement periods of the chosen account, newest first, for `period: choose`. */
  | { kind: 'statements.list'; action: string; accountIndex?: number; types?: readonly string[] }
  /** The caller chose a language (a menu option's `locale`, or the dialled number): recorded, then on. */
  | { kind: 'locale.select'; locale: Locale; via: 'menu' | 'number' }
  /** The time now, from the injected clock (the engine has none): for `hours` nodes. */
  | { kind: 'clock.now' };

export type SessionStatus = 'pending' | 'confirmed' | 'expired' | 'canceled' | 'call_ended';

export type EffectResult =
  | { kind: 'verify.opened'; did: string; sessionId: string }
  | { kind: 'verify.already_verified' }
  | { kind: 'verify.status'; status: SessionStatus }
  | { kind: 'verify.did'; did: string }
  | { kind: 'verify.reissued'; did: string; sessionId: string }
  /** No more reissues, or the store refused: go to the fallback. */
  | { kind: 'verify.unavailable' }
  | { kind: 'verify.canceled' }
  /** The action's speech: a prompt key of the flow plus its parameters. */
  | { kind: 'action.done'; prompt: string; params: Record<string, string> }
  | { kind: 'action.failed'; prompt: string; params: Record<string, string> }
  /** The call is not (or no longer) verified: the engine must go back through the gate. */
  | { kind: 'action.unverified' }
  | { kind: 'accounts'; accounts: { last4: string }[] }
  /** `YYYY-MM`, newest first. */
  | { kind: 'periods'; periods: string[] }
  | { kind: 'locale.selected' }
  /** Epoch milliseconds. */
  | { kind: 'clock'; now: number };

export type EngineInput =
  /** A new call; `dialled` is the number the caller rang (E.164), for the main flow's `numbers`. */
  | { kind: 'start'; locale?: Locale; dialled?: string }
  | { kind: 'digits'; digits: string }
  | { kind: 'no_input' }
  /** The call was redirected by the backend (the live-call intercept): re-check where we are. */
  | { kind: 'resume' }
  | { kind: 'effect'; result: EffectResult };

/** Engine state of one call; JSON-serialisable, stored between webhooks. Never holds a DID or a token. */
export interface CallState {
  flowId: string;
  node: string;
  locale: Locale;
  /** Increments every time the engine ends a turn; telephony puts it in action URLs so retries are recognisable. */
  turn: number;
  /** Turns spent at the current node (no-input / invalid / wait-loop iterations). */
  attempts: number;
  /** Verification bookkeeping of the current gate. */
  verify?: { sessionId?: string; reissues: number; loops: number };
  /** Account chosen in the account menu, for the action that follows. */
  accountIndex?: number;
  /** How many accounts the account menu offered, to check the digit without keeping the accounts themselves. */
  accountCount?: number;
  /** The statement months offered (`period: choose`), newest first: the digit is the position. */
  periods?: string[];
  /** The call passed a verify gate (confirmed or already verified) and no later check said otherwise; transfers carry it. */
  verified?: boolean;
  /** The IVR itself ended the call (a goodbye): its outcome is `contained` (A9 `call_ended`). Set by the telephony side. */
  ivrHungUp?: boolean;
  /** Node-specific scratch (e.g. which sub-step of an action node we are in). */
  phase?: string;
}

export interface StepResult {
  outputs: Output[];
  state: CallState;
  next: { kind: 'effect'; effect: Effect } | Wait;
}
