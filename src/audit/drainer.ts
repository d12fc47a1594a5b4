import type { Logger } from '../log/logger.js';
import type { Clock } from '../shared/clock.js';
import type { AuditEvent } from './events.js';
import type { Metrics } from './metrics.js';
import type { Outbox } from './outbox.js';
import type { DayHead, TrailWriter } from './trail/writer.js';

/** Per shard per batch: small enough for one INSERT, large enough to keep up with a busy store. */
const BATCH = 500;
/** A drain pass stops after this many batches so one tick never runs away. */
const MAX_BATCHES_PER_TICK = 20;
const LEASE_MS = 5000;
/** A day's chain head goes to the log at most this often (and on stop). */
const HEAD_LOG_EVERY_MS = 10_000;
/** An unreachable database is logged once, then at most this often while it stays away. */
const DOWN_LOG_EVERY_MS = 30_000;

export interface DrainerDeps {
  outbox: Outbox;
  write: TrailWriter;
  /** Creates the schema when it is missing (and may); resolves once the trail can be written. */
  ensureSchema: () => Promise<void>;
  /** Store-outage events (A10): written straight to the database, never through the store. */
  direct: AuditEvent[];
  instanceId: string;
  intervalMs: number;
  /** The embedded store: opened only once there is something to write (see trail/sql.ts). */
  connectWhenNeeded?: boolean;
  /** What the log names when the database cannot be reached: the setting and the host (issue 13). */
  where: { setting: string; host: string };
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
}

export interface DrainState {
  /** The database answered at least once since start (readiness, issue 13). */
  reached: boolean;
  /** The last attempt to write failed. */
  down: boolean;
  /** Events in the outbox at the last look (every instance looks, so each can refuse past the bound). */
  outboxCount: number;
  /** Age of the oldest waiting event at the last look. */
  lagMs: number;
}

/**
 * Moves events from the store's outbox into the trail's database (DESIGN B7): every instance runs
 * it, one at a time holds the lease and drains; every instance measures the outbox, so each knows
 * when it has passed its bound. Each pass writes store-outage events (the direct buffer) too.
 */
export function createDrainer(deps: DrainerDeps) {
  const { outbox, logger, metrics, clock } = deps;
  const log = logger.child({ component: 'audit-drainer' });
  const state: DrainState = { reached: false, down: false, outboxCount: 0, lagMs: 0 };
  const headLoggedAt = new Map<string, number>();
  const lastHeads = new Map<string, DayHead>();
  let schemaReady = false;
  let downLoggedAt = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;

  const logHeads = (heads: readonly DayHead[], force = false) => {
    const now = clock.now();
    for (const h of heads) lastHeads.set(h.day, h);
    for (const h of force ? [...lastHeads.values()] : heads) {
      if (!force && now - (headLoggedAt.get(h.day) ?? -Infinity) < HEAD_LOG_EVERY_MS) continue;
      headLoggedAt.set(h.day, now);
      log.info({ 'event.action': 'audit_chain_head', 'event.dataset': 'vaultline.audit', chainHead: { day: h.day, seq: h.seq, eventId: h.eventId, mac: h.mac } }, 'audit chain head');
    }
  };

  const databaseFailed = (err: unknown) => {
    state.down = true;
    const now = clock.now();
    if (now - downLoggedAt < DOWN_LOG_EVERY_MS) return;
    downLoggedAt = now;
    const reason = err instanceof Error ? err.message : String(err);
    log.error(
      { setting: deps.where.setting, host: deps.where.host, reason, outboxEvents: state.outboxCount },
      `audit trail database unreachable (${deps.where.setting} → ${deps.where.host}): ${reason}; events wait in the outbox`,
    );
  };

  const writeDirect = async () => {
    if (deps.direct.length === 0) return;
    // The batch stays in the buffer until it is written: a call's outcome read meanwhile
    // (`outcomeOf`: the buffer and the trail) still sees it. Removed by identity afterwards, since
    // a full buffer may have dropped its oldest events while the write was in flight.
    const batch = deps.direct.slice(0, BATCH);
    logHeads(await deps.write(batch));
    metrics.auditTrailWrites.inc({ path: 'direct' }, batch.length);
    const written = new Set(batch);
    let kept = 0;
    for (const e of deps.direct) if (!written.has(e)) deps.direct[kept++] = e;
    deps.direct.length = kept;
  };

  const measure = async () => {
    try {
      const size = await outbox.size();
      state.outboxCount = size.count;
      state.lagMs = size.oldestMs === undefined ? 0 : Math.max(0, clock.now() - size.oldestMs);
      metrics.auditOutboxEvents.set(size.count);
      metrics.auditOutboxLag.set(state.lagMs / 1000);
    } catch {
      // The store is away: its own readiness check says so; the last figures stand.
    }
  };

  /** One pass: measure, write store-outage events, then (with the lease) drain the outbox. */
  async function pass(): Promise<void> {
    await measure();
    if (!schemaReady && deps.connectWhenNeeded && state.outboxCount === 0 && deps.direct.length === 0) return;
    try {
      if (!schemaReady) {
        await deps.ensureSchema();
        schemaReady = true;
        if (state.down || !state.reached) log.info({ setting: deps.where.setting, host: deps.where.host }, 'audit trail database reachable');
        state.reached = true;
      }
      await writeDirect();
      let holdsLease = false;
      // An empty outbox needs no drainer: an idle instance writes nothing to the store.
      if (state.outboxCount > 0) {
        try {
          holdsLease = await outbox.lease(deps.instanceId, LEASE_MS);
        } catch {
          holdsLease = false;
        }
      }
      for (let i = 0; holdsLease && i < MAX_BATCHES_PER_TICK; i++) {
        const { entries, taken } = await outbox.peek(BATCH);
        if (entries.length === 0) break;
        // Oldest first across shards; a stable sort keeps each shard's (each call's) own order on ties.
        const events = entries.map((e) => e.event).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
        logHeads(await deps.write(events));
        metrics.auditTrailWrites.inc({ path: 'outbox' }, events.length);
        await outbox.trim(taken);
        if (taken.every((n) => n < BATCH)) break;
      }
      if (state.down) log.info({ setting: deps.where.setting, host: deps.where.host }, 'audit trail database reachable again');
      state.down = false;
    } catch (err) {
      if (isStoreFailure(err)) return;
      databaseFailed(err);
    }
    await measure();
  }

  const tick = () => {
    if (stopped) return;
    running = pass().finally(() => {
      running = undefined;
      if (!stopped) timer = setTimeout(tick, deps.intervalMs).unref();
    });
  };

  return {
    state,
    start() {
      if (!stopped) return;
      stopped = false;
      tick();
    },
    /** One pass now (tests, the bench, shutdown), after the one running, if any. */
    async drainNow(): Promise<void> {
      if (running) await running;
      await pass();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      // A pass stuck on a database that does not answer (or is still starting) is not waited for long.
      if (running) await Promise.race([running, new Promise((r) => setTimeout(r, 2000).unref())]);
      logHeads([], true);
      await outbox.release(deps.instanceId).catch(() => undefined);
    },
  };
}

/** ioredis errors (connection, timeout, READONLY…) are the store's, not the database's. */
function isStoreFailure(err: unknown): boolean {
  const name = err instanceof Error ? err.constructor.name : '';
  return name === 'ReplyError' || name === 'MaxRetriesPerRequestError' || (err instanceof Error && /Connection is closed|Command timed out|Stream isn't writeable/.test(err.message));
}

export type Drainer = ReturnType<typeof createDrainer>;
