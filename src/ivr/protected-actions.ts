import type { HttpActorFields } from '../audit/http-actor.js';

/**
 * The protected actions a verified call may use, provider-neutral: the Twilio flow (through the
 * engine's `action` effect) and the provider API (`/api/v1/balance`, `/api/v1/statements/sms`)
 * both call these after checking the confirmed session and the call-bound token.
 */
export interface ProtectedCall {
  callId: string;
  customerId: string;
  sessionId: string;
  /** 1-based position of the account (the menu digit); default 1. */
  accountIndex?: number;
  /** Only accounts of these types count for `accountIndex` (a flow's `types: [savings]`); all when unset. */
  types?: readonly string[];
  /** The call's language (DESIGN A3: it wins over the customer's locale on file). */
  locale?: string;
  /** The turn's budget: the bank, the statement store and the SMS get what is left of it. */
  signal?: AbortSignal;
  /** A9: who asked over HTTP (an API client) and from where; unset for the Twilio flow. */
  by?: HttpActorFields;
}

export interface BalanceAnswer {
  /** Ready to speak, e.g. "For account ending in 1 2 3 4, your available balance is $1,250.50." */
  speech: string;
  /** Last four only, e.g. "••••1234". */
  maskedAccount: string;
  /** Decimal string, e.g. "1250.50". */
  amount: string;
  currency: string;
  /** For the IVR prompt: last four as spaced digits and the locale-formatted amount. */
  last4Spoken: string;
  amountSpoken: string;
}

export interface StatementSmsAnswer {
  sent: true;
  /** e.g. "••••0101". */
  maskedMobile: string;
  last4Spoken: string;
}

export interface ProtectedActions {
  /** Masked accounts of the customer (of `types`) in menu order. */
  accounts(call: Pick<ProtectedCall, 'customerId' | 'types' | 'signal'>): Promise<{ last4: string }[]>;
  /** The account's statement periods (`YYYY-MM`), newest first. */
  statementPeriods(call: ProtectedCall): Promise<string[]>;
  /**
   * Whether the call may have another statement SMS (A3: 3 per call). A refusal is recorded
   * (statement_sms_refused) here, so the IVR can say so before asking which account or month.
   */
  statementSmsAllowed(call: ProtectedCall): Promise<boolean>;
  /** Throws AppError('not_found') for a position the customer does not have, 'unavailable' when the bank is down. */
  balance(call: ProtectedCall): Promise<BalanceAnswer>;
  /**
   * Issues a single-use link and texts it to the mobile on file; throws 'unavailable' when storage or
   * SMS fail, 'sms_limit' (recorded as statement_sms_refused) when the call has had its 3.
   */
  statementSms(call: ProtectedCall & { period?: string }): Promise<StatementSmsAnswer>;
}
