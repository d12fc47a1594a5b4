import type { HttpActorFields } from '../audit/http-actor.js';
import type { Audit } from '../audit/audit.js';
import type { Metrics } from '../audit/metrics.js';
import type { Logger } from '../log/logger.js';
import type { Clock } from '../shared/clock.js';
import { isStoreError } from '../shared/errors.js';
import type { RedisClient } from '../store/client.js';
import type { Keys } from '../store/keys.js';
import { TERMINAL, type Sessions, type SessionView } from '../verification/sessions.js';
import type { ApiClient } from './auth.js';
import { createCallbackSender, type CallbackSenderOptions } from './callbacks.js';
import { createApiRecords } from './records.js';

export interface TerminalNotifierDeps {
  redis: RedisClient;
  keys: Keys;
  clock: Clock;
  sessions: Sessions;
  audit: Audit;
  metrics: Metrics;
  logger: Logger;
  clients: readonly ApiClient[];
  didTtlSeconds: number;
  callbacks?: Omit<CallbackSenderOptions, 'clock'>;
}

/**
 * Tells about an API session's outcome once: the first observer of a terminal state (the confirm use
 * case, a cancel, a poll or the sweeper that sees an expiry, a call end) claims it, records the audit
 * event the outcome still lacks, and POSTs it to the client's callback URL in the background.
 */
export function createTerminalNotifier(deps: TerminalNotifierDeps) {
  const { audit, metrics, clock } = deps;
  const log = deps.logger.child({ component: 'api-callbacks' });
  const records = createApiRecords({ redis: deps.redis, keys: deps.keys, didTtlSeconds: deps.didTtlSeconds });
  const send = createCallbackSender({ clock, ...deps.callbacks });
  const secrets = new Map(deps.clients.map((c) => [c.id, c.secret]));
  const pending = new Set<Promise<void>>();

  async function deliver(session: SessionView, url: string, clientId: string): Promise<void> {
    const secret = secrets.get(clientId);
    const ids = { sessionId: session.sessionId, status: session.status };
    if (secret === undefined) {
      // The client was removed from API_CLIENTS since: nothing to sign with, so nothing is sent.
      await audit.record('callback_failed', { callId: session.callId, ...ids, reason: 'unknown_client', attempts: 0 });
      return;
    }
    const outcome = await send(url, secret, { sessionId: session.sessionId, callId: session.callId, status: session.status });
    if (outcome.delivered) await audit.record('callback_sent', { callId: session.callId, ...ids, attempts: outcome.attempts });
    else {
      log.warn({ callId: session.callId, sessionId: session.sessionId, reason: outcome.reason, attempts: outcome.attempts }, 'session callback not delivered');
      await audit.record('callback_failed', { callId: session.callId, ...ids, reason: outcome.reason, attempts: outcome.attempts });
    }
  }

  async function settle(session: SessionView, by?: HttpActorFields): Promise<void> {
    if (!TERMINAL.has(session.status)) return;
    if (!(await records.claimTerminal(session.sessionId, clock.now()))) return;
    const ids = { sessionId: session.sessionId };
    // Confirmed and call_ended are recorded by their own use cases; an expiry or cancel seen here is not.
    if (session.status === 'expired') {
      metrics.sessionOutcomes.inc({ status: 'expired' });
      await audit.record('timeout', { callId: session.callId, ...ids });
    } else if (session.status === 'canceled') {
      metrics.sessionOutcomes.inc({ status: 'canceled' });
      await audit.record('canceled', { callId: session.callId, ...ids, ...by });
    }
    const record = await records.read(session.sessionId);
    if (record?.callbackUrl === undefined) return;
    await records.dropDue(session.sessionId);
    const delivery = deliver(session, record.callbackUrl, record.clientId).catch((err: unknown) => log.error({ err }, 'session callback crashed'));
    pending.add(delivery);
    void delivery.finally(() => pending.delete(delivery));
  }

  /**
   * Call when a session may have reached a terminal state (wired into the confirm use case; the API
   * calls it for cancels, ends and observed expiries). Does nothing for a pending session, a session
   * the API did not open, or an outcome already told. Never throws: the outcome is already decided,
   * telling about it is best effort.
   */
  async function notifyTerminal(session: SessionView, by?: HttpActorFields): Promise<void> {
    try {
      await settle(session, by);
    } catch (err) {
      log.warn({ err, sessionId: session.sessionId }, 'could not settle a terminal API session');
    }
  }

  /** Expiries nobody polled: sessions with a callback whose code ran out are expired and told. Returns how many. */
  async function sweepDue(limit = 100): Promise<number> {
    // Expiry times are the store's (DESIGN B2), so due-ness is measured by the store's clock too.
    const [seconds, micros] = await deps.redis.time();
    const ids = await records.takeDue(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000), limit);
    for (const id of ids) {
      const session = await deps.sessions.get(id);
      // Another instance's clock may run behind ours: a session still pending goes back in the set.
      if (session?.status === 'pending') await records.requeue(id, session.expiresAt);
      else if (session) await notifyTerminal(session);
    }
    return ids.length;
  }

  return {
    records,
    notifyTerminal,
    sweepDue,

    /** Runs `sweepDue` every `intervalMs` until the returned function is called (main.ts, on SIGTERM). */
    startSweeper(intervalMs = 5000): () => void {
      const timer = setInterval(() => {
        // A store outage is logged once by the store client; a warning every interval would bury it.
        sweepDue().catch((err: unknown) => (isStoreError(err) ? log.debug({ err }, 'callback sweep skipped: store unavailable') : log.warn({ err }, 'callback sweep failed')));
      }, intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },

    /** Resolves once every callback under way has been delivered or given up (tests, shutdown). */
    async idle(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}

export type TerminalNotifier = ReturnType<typeof createTerminalNotifier>;
