import { AppError } from '../shared/errors.js';
import type { AccountNumber } from './account-number.js';
import type { MobileNumber } from './mobile-number.js';

/**
 * What the IVR asks of the bank's core system: who the customer is, what an account holds, which
 * statements exist. Read-only and small on purpose; two adapters (B5): the demo bank from
 * BANK_DATA_FILE and the HTTP core-banking client.
 *
 * "Not found" is a value (null), not an error: an unknown customer or account is an answer.
 * "The bank did not answer" is BankingUnavailableError: the caller hears an apology (B3).
 */
export interface BankingPort {
  getCustomer(customerId: string, options?: BankingCallOptions): Promise<Customer | null>;
  /** null when the customer or the account is unknown (or the account is not the customer's). */
  getBalance(customerId: string, accountId: string, options?: BankingCallOptions): Promise<Balance | null>;
  /** Newest first; [] when the account has none; null when the customer or account is unknown. */
  listStatements(customerId: string, accountId: string, options?: BankingCallOptions): Promise<StatementRef[] | null>;
}

export interface BankingCallOptions {
  /** The caller's turn budget: once it aborts, no attempt is started or kept waiting (BankingUnavailableError 'timeout'). */
  signal?: AbortSignal;
}

export type AccountType = 'checking' | 'savings' | 'credit';

export interface Account {
  readonly id: string;
  readonly type: AccountType;
  /** ISO 4217, e.g. "USD". */
  readonly currency: string;
  /** Opaque: only last four digits ever come out (PCI DSS 3.4.1). */
  readonly number: AccountNumber;
}

export interface Customer {
  readonly id: string;
  readonly name: string;
  /** The mobile on file: the only destination of statement SMS (A8). */
  readonly mobile: MobileNumber;
  /** BCP 47, e.g. "en-US", "es-US". */
  readonly locale: string;
  /** In the bank's order, which is the menu order ("press 1", "press 2"). */
  readonly accounts: readonly Account[];
}

export interface Balance {
  /** Decimal string, never a float: "1250.50", "-12.00". */
  readonly available: string;
  /** ISO 4217. */
  readonly currency: string;
}

export interface StatementRef {
  /** "YYYY-MM". */
  readonly period: string;
  /** Key in the statement store, e.g. "cust_001/acc_001/2026-10.pdf". */
  readonly file: string;
}

export type BankingUnavailableReason = 'timeout' | 'network' | 'server_error' | 'rejected' | 'bad_response' | 'breaker_open';

/** The core system did not give a usable answer in time. Safe message; the cause is kept for logs. */
export class BankingUnavailableError extends AppError {
  constructor(
    readonly reason: BankingUnavailableReason,
    options?: { cause?: unknown },
  ) {
    super('unavailable', `core banking unavailable (${reason})`, options);
  }
}

export function isBankingUnavailable(err: unknown): err is BankingUnavailableError {
  return err instanceof BankingUnavailableError;
}
