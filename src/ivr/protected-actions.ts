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
  locale?: string;
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
  /** Masked accounts of the customer in menu order. */
  accounts(call: Pick<ProtectedCall, 'customerId'>): Promise<{ last4: string }[]>;
  /** Throws AppError('not_found') for a position the customer does not have, 'unavailable' when the bank is down. */
  balance(call: ProtectedCall): Promise<BalanceAnswer>;
  /** Issues a single-use link and texts it to the mobile on file; throws 'unavailable' when storage or SMS fail. */
  statementSms(call: ProtectedCall & { period?: string }): Promise<StatementSmsAnswer>;
}
