import type { AuditEvent, CallOutcome } from './events.js';

/** Events that mean the caller was served by the IVR itself. */
const SERVED: ReadonlySet<string> = new Set(['balance_read', 'statement_sms_sent', 'statement_link_issued']);
/** Events that mean the caller was sent to a person. */
const TO_AGENT: ReadonlySet<string> = new Set(['transfer', 'fail_closed']);

/**
 * A call's outcome (A9 `call_ended`), from what its timeline holds when it ends:
 * `transferred` once it went to an agent queue (a flow's transfer or the fail-closed apology);
 * else `contained` when the IVR served it (a balance, a statement) or ended it itself (goodbye);
 * else `abandoned`: the caller hung up before either.
 */
export function callOutcome(events: readonly AuditEvent[], ivrHungUp: boolean): CallOutcome {
  if (events.some((e) => TO_AGENT.has(e.type))) return 'transferred';
  if (ivrHungUp || events.some((e) => SERVED.has(e.type))) return 'contained';
  return 'abandoned';
}
