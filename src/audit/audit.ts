import { randomUUID } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import type { RedisClient } from '../store/client.js';
import type { Keys } from '../store/keys.js';
import { createDrainer } from './drainer.js';
import { EVENT_FIELDS, type AuditEvent, type AuditEventType, type CallOutcome, type EventFields, type LogOnlyType } from './events.js';
import { callOutcome } from './outcome.js';
import { ecsFields, ecsLogOnly } from './log-line.js';
import type { Metrics } from './metrics.js';
import { createOutbox, OUTBOX_SHARDS } from './outbox.js';
import { macKey } from './trail/chain.js';
import { createTrailReader, type CallSearch, type CallSummary, type TimeBound, type VerifyResult } from './trail/reader.js';
import { migrate } from './trail/schema.js';
import type { Sql } from './trail/sql.js';
import { createTrailWriter } from './trail/writer.js';

export type { AuditEvent, AuditEventType } from './events.js';

/**
 * The trail's reads (DESIGN A9, A11). The console helper's routes code against exactly this:
 * - `searchCalls` lists calls (those with a `call_started`) newest first, keyset-paginated by an
 *   opaque cursor (a cursor we did not make is a `bad_request`); it reads the database only, so a
 *   call appears there once drained (within 2 s while the database is up).
 * - `timeline` is one call's events oldest first, from the database and the outbox together;
 *   `undefined` for a call never seen (→ 404). Events outside calls (device, audit reads) are in no timeline.
 * - `exportEvents` streams [from, to) oldest first in keyset batches (constant memory).
 * - `verify` checks the MAC chain of every day [from, to] touches.
 * Reads while the database is unreachable throw AppError `unavailable` (→ 503).
 */
export interface AuditReader {
  searchCalls(q: CallSearch): Promise<{ calls: CallSummary[]; nextCursor?: string }>;
  timeline(callId: string): Promise<AuditEvent[] | undefined>;
  exportEvents(range: { from: TimeBound; to: TimeBound }): AsyncIterable<AuditEvent>;
  verify(range: { from: TimeBound; to: TimeBound }): Promise<VerifyResult>;
}

export interface Audit extends AuditReader {
  /**
   * Appends the event to the store's outbox (time from the store's clock) and writes its log line;
   * resolves once it survives this process. Fields are checked against the event map at run time
   * too: an event that breaks its schema is a bug and throws.
   */
  record<T extends AuditEventType>(type: T, fields: EventFields<T>): Promise<void>;
  /**
   * For events of a store outage (A10: degraded, fail_closed, call_ended): the log line now, and the
   * trail's database through a bounded in-process buffer, never the store. Time from this process's clock.
   */
  recordDirect<T extends AuditEventType>(type: T, fields: EventFields<T>): void;
  /** A log line only (A9: a rejected webhook signature, a confirmation matching no session): never in the trail. */
  logOnly(type: LogOnlyType, details: { callId?: string; sessionId?: string; path?: string; reason?: string; deviceId?: string; sourceIp?: string }): void;
  /**
   * False once the outbox holds more than its bound (the database has been away too long): protected
   * actions are then refused, since an access that cannot be audited is not served (A11).
   */
  canAudit(): boolean;
  /**
   * The outcome a call ends with (A9), from its events so far. Tolerates an unreachable database
   * (then the outbox and the in-process buffer are all it has): a call's end is never refused for it.
   */
  outcomeOf(callId: string, ivrHungUp: boolean): Promise<CallOutcome>;
  /** /readyz: `ok` or `lagging`; throws until the database has been reached once since start. */
  readiness(): Promise<string>;
  /** Runs one drain pass now (tests, bench). */
  drainNow(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

export interface AuditDeps {
  redis: RedisClient;
  keys: Keys;
  logger: Logger;
  clock: Clock;
  metrics: Metrics;
  sql: Sql;
  dataSecret: string | Buffer;
  /** The setting the database comes from, for the one log line it gets when unreachable. */
  setting: string;
  /** /readyz says `starting` (ready) rather than 503 before the database is first reached (the embedded store). */
  readyBeforeReached?: boolean;
  /** Events the outbox may hold before protected actions are refused. */
  outboxLimit?: number;
  drainIntervalMs?: number;
  /** The store is the embedded one, whose TIME is no clock to order by (see outbox.ts). */
  embeddedStore?: boolean;
  /** Store-outage events kept in memory at most (the oldest are dropped past it, and counted). */
  directLimit?: number;
}

export const DEFAULT_OUTBOX_LIMIT = 50_000;
/** While up, the database is written every this often: well inside A11's 2 s. */
const DRAIN_INTERVAL_MS = 250;
/** The outbox counts as lagging once its oldest event waits longer than A11's bound. */
const LAGGING_MS = 2000;

export function createAudit(deps: AuditDeps): Audit {
  const { logger, clock, metrics, sql } = deps;
  const log = logger.child({ component: 'audit' });
  const limit = deps.outboxLimit ?? DEFAULT_OUTBOX_LIMIT;
  const directLimit = deps.directLimit ?? 10_000;
  const key = macKey(deps.dataSecret);
  // Each shard may hold the whole bound, so the bound is reached by the total before any one shard is full.
  const outbox = createOutbox({ redis: deps.redis, keys: deps.keys, perShardLimit: Math.max(limit, 16), ...(deps.embeddedStore ? { localClock: () => clock.now() } : {}) });
  const reader = createTrailReader({ sql, key });
  const direct: AuditEvent[] = [];
  const drainer = createDrainer({
    outbox,
    write: createTrailWriter({ sql, key }),
    ensureSchema: () => migrate(sql),
    direct,
    instanceId: randomUUID(),
    intervalMs: deps.drainIntervalMs ?? DRAIN_INTERVAL_MS,
    connectWhenNeeded: deps.readyBeforeReached === true,
    where: { setting: deps.setting, host: sql.where },
    logger,
    metrics,
    clock,
  });

  const validated = <T extends AuditEventType>(type: T, fields: EventFields<T>) => EVENT_FIELDS[type].parse(fields) as Record<string, unknown>;
  const line = (event: AuditEvent) => {
    metrics.auditEvents.inc({ type: event.type });
    log.info(ecsFields(event), `audit ${event.type}`);
  };
  const readFailed = (err: unknown): never => {
    if (err instanceof AppError) throw err;
    throw new AppError('unavailable', 'The audit trail cannot be read right now.', { cause: err });
  };

  /**
   * The embedded trail (`npm start`) is made when its first event is drained, since PGlite is slow
   * to start: until then it holds nothing, which is an empty answer, not an unreadable trail.
   */
  const notMadeYet = () => deps.readyBeforeReached === true && !drainer.state.reached;
  async function* noEvents(): AsyncIterable<AuditEvent> {}

  /**
   * A call's events: the database's, then what the outbox and the buffer still hold, oldest first.
   * The buffer and the outbox are read before the database: an event leaves either only after the
   * database has it, so read in this order it is seen in one place or the other, never in neither.
   */
  const eventsOf = async (callId: string, readTrail: () => Promise<AuditEvent[]>, readOutbox: () => Promise<AuditEvent[]>) => {
    const pending = direct.filter((e) => (e as { callId?: string }).callId === callId);
    const inOutbox = await readOutbox();
    const inTrail = await readTrail();
    const ids = new Set(inTrail.map((e) => e.id));
    const events = [...inTrail, ...[...inOutbox, ...pending].filter((e) => !ids.has(e.id))];
    // Stable: events of the same millisecond keep the order they were written in.
    return events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  };

  return {
    async record(type, fields) {
      const body = { id: randomUUID(), type, ...validated(type, fields) };
      const at = await outbox.append((body as { callId?: string }).callId ?? body.id, body);
      line({ ...body, at } as unknown as AuditEvent);
    },
    recordDirect(type, fields) {
      const event = { id: randomUUID(), type, ...validated(type, fields), at: new Date(clock.now()).toISOString() } as unknown as AuditEvent;
      line(event);
      if (direct.length >= directLimit) {
        direct.shift();
        metrics.auditDirectDropped.inc();
      }
      direct.push(event);
    },
    logOnly(type, details) {
      metrics.auditEvents.inc({ type });
      log.info(ecsLogOnly(type, new Date(clock.now()).toISOString(), details), `audit ${type}`);
    },
    canAudit: () => drainer.state.outboxCount < limit,
    async readiness() {
      if (!drainer.state.reached) {
        if (deps.readyBeforeReached) return 'starting';
        throw new Error('the audit trail database has not been reached since start');
      }
      return drainer.state.down || drainer.state.lagMs > LAGGING_MS ? 'lagging' : 'ok';
    },
    async timeline(callId) {
      // Before the database is first reached nothing has been drained: the outbox holds it all.
      const events = await eventsOf(callId, () => (drainer.state.reached ? reader.timeline(callId).catch(readFailed) : Promise.resolve([])), () => outbox.ofCall(callId));
      return events.length === 0 ? undefined : events;
    },
    async outcomeOf(callId, ivrHungUp) {
      const events = await eventsOf(callId, () => reader.timeline(callId).catch(() => []), () => outbox.ofCall(callId).catch(() => []));
      return callOutcome(events, ivrHungUp);
    },
    searchCalls: (q) => (notMadeYet() ? Promise.resolve({ calls: [] }) : reader.searchCalls(q).catch(readFailed)),
    exportEvents: (range) => (notMadeYet() ? noEvents() : reader.exportEvents(range)),
    verify: (range) => (notMadeYet() ? Promise.resolve({ ok: true, checked: 0 }) : reader.verify(range).catch(readFailed)),
    drainNow: () => drainer.drainNow(),
    start: () => drainer.start(),
    stop: () => drainer.stop(),
  };
}

export { OUTBOX_SHARDS };
