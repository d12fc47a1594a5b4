import { AppError } from '../shared/errors.js';

/** A text message to one phone; provider-neutral (STYLE habit 5: Twilio lives in telephony/twilio). */
export interface SmsMessage {
  /** E.164, e.g. +14155550101: the customer's mobile on file, never the calling number (A8). */
  to: string;
  body: string;
}

export interface SmsSender {
  /** Resolves once the provider accepted the message; throws SmsFailedError otherwise. */
  /**
   * `signal`: the caller's turn budget. A sender that cannot abort a request (the Twilio SDK has no
   * signal) is bounded by the caller's own race (`withinBudget`); a send is never retried, and one
   * that outlives the budget may still be delivered: the caller has heard the apology either way.
   */
  send(message: SmsMessage, options?: { signal?: AbortSignal }): Promise<{ sid: string }>;
}

/** Why a send failed, for logs and metric labels. */
export type SmsFailure = 'invalid_recipient' | 'rejected' | 'provider_error' | 'network';

/**
 * The provider did not take the message. Maps to 503 on JSON routes. Its message and cause never
 * carry the body (it holds a link token) or the number: provider errors often quote the number.
 */
export class SmsFailedError extends AppError {
  constructor(
    readonly reason: SmsFailure,
    /** The provider's HTTP status and error code, when it answered. */
    readonly providerStatus?: number,
    readonly providerCode?: number | string,
  ) {
    super('unavailable', 'The text message could not be sent.', {
      cause: new Error(`${reason}${providerStatus ? ` http_${providerStatus}` : ''}${providerCode !== undefined ? ` code_${String(providerCode)}` : ''}`),
    });
  }
}

export const E164 = /^\+[1-9]\d{6,14}$/;
