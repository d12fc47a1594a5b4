/**
 * Provider-neutral control of a live call (the intercept). Twilio implements it with
 * `calls(sid).update`; API-driven platforms (Genesys, NICE, Five9) poll instead and need none.
 */
export type RedirectOutcome =
  | { kind: 'redirected' }
  /** The provider says the call is over (Twilio 21220 / 404): nothing to redirect. */
  | { kind: 'gone' }
  /** Transient failure (5xx, network, timeout) after all retries. */
  | { kind: 'failed'; reason: string };

export interface LiveCallControl {
  redirect(callId: string, absoluteUrl: string): Promise<RedirectOutcome>;
}
