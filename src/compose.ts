import type { Router } from 'express';
import type { DestinationStream } from 'pino';
import type { Sql } from './audit/trail/sql.js';
import { wireAudit } from './audit/wire.js';
import { createMetrics } from './audit/metrics.js';
import type { AppDeps } from './app.js';
import type { Config } from './config/load.js';
import { createPromptCatalogue } from './engine/catalogue.js';
import { createEngine } from './engine/engine.js';
import { loadFlows } from './flows/load.js';
import { watchFlows } from './flows/watch.js';
import { createEffects } from './ivr/effects.js';
import { answerDictionary, createTurns } from './ivr/turns.js';
import { createIvrDriver } from './ivr/driver.js';
import { degradedModeFor } from './ivr/degraded.js';
import { createLogger, type Logger } from './log/logger.js';
import { createScrubber } from './log/scrub.js';
import { configuredSecrets } from './config/secrets.js';
import { cryptoRandom, systemClock, type Clock, type Random } from './shared/clock.js';
import { createSealer } from './shared/seal.js';
import { createStore, type Store } from './store/client.js';
import { createKeys } from './store/keys.js';
import { createReplicaAck } from './store/replication.js';
import type { LiveCallControl } from './telephony/live-call.js';
import { createCallsUpdate } from './telephony/twilio/calls-update.js';
import { createTwilioClient, createTwilioLiveCallControl } from './telephony/twilio/rest.js';
import { twilioUrls } from './telephony/twilio/webhooks.js';
import { createProtectedActions } from './banking/protected-actions.js';
import { createDemoBank } from './banking/demo-bank.js';
import { createHttpBank } from './banking/http-bank.js';
import type { BankingPort } from './banking/port.js';
import { createStatementLinks } from './statements/links.js';
import { createStatementSmsLimit } from './statements/sms-limit.js';
import { createLocalStatementRouter, createLocalStatementStore, LOCAL_STATEMENTS_PATH } from './statements/local-store.js';
import { createS3StatementStore } from './statements/s3-store.js';
import { MAX_PRESIGN_SECONDS, type StatementStore } from './statements/store.js';
import { createStatementLinkRouter } from './http/statement-links.js';
import { createDrain } from './http/ops.js';
import { createTwilioSmsSender } from './telephony/twilio/sms.js';
import { createIvrActions } from './ivr/ivr-actions.js';
import { createCallTokens } from './verification/call-token.js';
import { createConfirm } from './verification/confirm.js';
import { createConfirmationVerifier } from './verification/confirmation-jws.js';
import { createDevices } from './verification/devices.js';
import { createDidCodec } from './verification/did.js';
import { createIntercept } from './verification/intercept.js';
import { createLockout } from './verification/lockout.js';
import { createRecentlyVerified } from './verification/recently-verified.js';
import { createSessions } from './verification/sessions.js';
import { perSecondLimits } from './api/rate-limit.js';
import { createProviderApiRouter } from './api/router.js';
import { createTerminalNotifier, type TerminalNotifier } from './api/terminal.js';
import { createReviewerCheck } from './audit/reviewers.js';
import { createConsole } from './console/index.js';

/** What tests (and benchmarks) may replace; production passes none of these. */
export interface Overrides {
  clock?: Clock;
  random?: Random;
  logDestination?: DestinationStream;
  logger?: Logger;
  store?: Store;
  /** Origin for Twilio REST calls (a local stand-in), overriding the config. */
  twilioApiBaseUrl?: string;
  /** Back-off between redirect retries (tests make it short). */
  redirectBackoffMs?: readonly number[];
  /** The core-banking port (tests: the HTTP adapter with a short timeout against a local fake core). */
  bank?: BankingPort;
  /**
   * Back-off between provider-API callback retries. The production default waits seconds between
   * attempts; tests of the retry bound pass zeros so they neither sleep nor wait on a timer.
   */
  callbackBackoffMs?: readonly number[];
  /**
   * A webhook turn's budget. Production uses TURN_BUDGET_MS (10 s, DESIGN A3; a test shows that
   * wiring); tests of the many ways a backend can be slow pass a shorter one so they take a second.
   */
  turnBudgetMs?: number;
  /** The audit trail's database (tests share one per file); otherwise AUDIT_DATABASE_URL or the embedded PGlite. */
  auditSql?: Sql;
  /** Events the audit outbox may hold before protected actions are refused (tests reach it in a few calls). */
  auditOutboxLimit?: number;
}

/** Providers whose calls this app controls itself: an API client may not open sessions as one. */
const APP_PROVIDERS = ['twilio'] as const;

export interface Built {
  deps: AppDeps;
  /** Outcomes of provider-API sessions (callbacks); main.ts runs its sweeper. */
  notifier: TerminalNotifier;
  close(): Promise<void>;
}

/** The one composition root (STYLE habit 2): every capability is built here and handed its dependencies. */
export async function buildDeps(config: Config, overrides: Overrides = {}): Promise<Built> {
  const clock = overrides.clock ?? systemClock;
  const random = overrides.random ?? cryptoRandom;
  const scrub = createScrubber(configuredSecrets(config));
  const logger = overrides.logger ?? createLogger({ level: config.logLevel, scrub, ...(overrides.logDestination ? { destination: overrides.logDestination } : {}) });
  // Flows are validated before anything connects: a broken flow file stops start-up here.
  let flows = loadFlows(config.flowsDir);
  let engine = createEngine(flows);
  // Calls reach the engine through this, so a reload of flows/ (development) applies to the next turn.
  const liveEngine = { start: (locale?: string, dialled?: string) => engine.start(locale, dialled), step: (...a: Parameters<typeof engine.step>) => engine.step(...a), failClosedSpeech: (l?: string) => engine.failClosedSpeech(l) };
  // Development reloads flows/ on change; a broken edit keeps these and logs its problems (docs/flows.md).
  const flowWatch =
    config.env === 'development'
      ? watchFlows({
          dir: config.flowsDir,
          logger,
          onReload: (next) => {
            engine = createEngine(next);
            flows = next;
          },
        })
      : undefined;
  // The words said outside a node follow a reload too.
  const catalogue = createPromptCatalogue(() => flows);

  const keys = createKeys(config.keyPrefix);
  const store = overrides.store ?? (await createStore(config.store, { logger, probeKey: keys.writeProbe() }));
  const metrics = createMetrics({ defaultMetrics: true });
  const trail = wireAudit(config, { store, keys, logger, clock, metrics }, overrides);
  const { audit } = trail;

  const did = createDidCodec({ secret: config.dataSecret, length: config.did.length, random });
  const sessionSealer = createSealer(config.dataSecret, 'call-token');
  const sessions = createSessions({
    redis: store.redis,
    keys,
    random,
    did,
    tokenSealer: sessionSealer,
    didTtlSeconds: config.did.ttlSeconds,
    lateConfirmationPolicy: config.lateConfirmationPolicy,
  });
  const recentlyVerified = createRecentlyVerified({ redis: store.redis, keys, sealer: sessionSealer });
  const callTokens = await createCallTokens({
    signingKeys: config.tokenSigningKeys,
    issuer: config.publicBaseUrl,
    clock,
    random,
    isTokenLive: async (callId, jti) => {
      const state = await sessions.verification(callId);
      return !state.ended && state.tokenJti === jti;
    },
  });
  let devices = createDevices({ redis: store.redis, keys, clock, random, replicaAck: createReplicaAck(store) });
  if (config.env === 'development' && store.kind === 'embedded') {
    // `npm start` keeps enrolled devices across restarts in a file under .vaultline/ (development only).
    const { persistDevices } = await import('./dev/persisted-devices.js');
    devices = await persistDevices({ devices, redis: store.redis, keys, file: config.embeddedDevicesFile });
  }

  const devRouters: Record<string, Router> = {};
  const appRouters: Record<string, Router> = {};
  let twilioApiBaseUrl = overrides.twilioApiBaseUrl ?? config.twilio.apiBaseUrl;
  if (!config.isProduction) {
    // Development: the built-in phone network drives our webhooks on our own port and, without
    // TWILIO_API_BASE_URL, answers Twilio REST too; /dev is its console. Imported only here, so
    // production never loads them (nor their devDependencies: the simulator's XML parser).
    const { createDevTools } = await import('./dev/index.js');
    const dev = createDevTools({ config, devices, audit, restTargetIsSimulator: twilioApiBaseUrl === undefined, flows: () => flows });
    Object.assign(devRouters, dev.routers);
    twilioApiBaseUrl ??= dev.simulatorRestUrl;
  }
  // loadConfig always sets it in production (https://api.twilio.com unless given).
  if (twilioApiBaseUrl === undefined) throw new Error('no Twilio REST origin configured');
  const twilioRest = { accountSid: config.twilio.accountSid, authToken: config.twilio.authToken, apiBaseUrl: twilioApiBaseUrl };
  const twilioClient = createTwilioClient(twilioRest);
  const callsUpdate = createCallsUpdate(twilioRest);
  const liveCalls: Record<string, LiveCallControl> = {
    twilio: createTwilioLiveCallControl(callsUpdate, overrides.redirectBackoffMs ? { backoffMs: overrides.redirectBackoffMs } : {}),
  };

  const urls = twilioUrls(config.publicBaseUrl);
  const intercept = createIntercept({
    sessions,
    liveCalls,
    verifiedUrl: (s) => urls.verified(s.sessionId),
    lateConfirmationPolicy: config.lateConfirmationPolicy,
    recentlyVerified,
    audit,
    metrics,
    logger,
  });
  // Outcomes of provider-API sessions: told once, by whoever sees them first (confirm, poll, sweeper).
  const notifier = createTerminalNotifier({
    redis: store.redis,
    keys,
    clock,
    sessions,
    audit,
    metrics,
    logger,
    clients: config.apiClients,
    didTtlSeconds: config.did.ttlSeconds,
    ...(overrides.callbackBackoffMs ? { callbacks: { backoffMs: overrides.callbackBackoffMs } } : {}),
  });
  const confirm = createConfirm({
    verifier: createConfirmationVerifier({ devices, audience: config.publicBaseUrl, clock }),
    mintToken: (input) => callTokens.mint(input),
    onTerminal: (session) => void notifier.notifyTerminal(session),
    lockout: createLockout({ redis: store.redis, keys, random }),
    sessions,
    intercept,
    audit,
    metrics,
    logger,
  });

  const bank =
    overrides.bank ??
    (config.banking.kind === 'http' ? createHttpBank({ baseUrl: config.banking.url, logger }) : await createDemoBank({ file: config.banking.file }));
  let statements: StatementStore;
  if (config.statements.kind === 's3') {
    const { bucket, endpoint, region, forcePathStyle } = config.statements;
    statements = createS3StatementStore({ bucket, ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}), forcePathStyle, clock });
  } else {
    statements = createLocalStatementStore({ root: config.statements.dir, secret: config.dataSecret, publicBaseUrl: config.publicBaseUrl, clock });
    // Not a dev router: the local store serves its signed URLs in every environment.
    appRouters[LOCAL_STATEMENTS_PATH] = createLocalStatementRouter({ root: config.statements.dir, secret: config.dataSecret, clock });
  }
  const links = createStatementLinks({ redis: store.redis, keys, random, ttlSeconds: config.linkTtlSeconds });
  appRouters['/s'] = createStatementLinkRouter({
    links,
    statementUrl: (file, filename) => statements.presignedGetUrl(file, { filename, expiresInSeconds: MAX_PRESIGN_SECONDS }),
    audit,
    logger,
    limiter: { redis: store.redis, keyPrefix: keys.limiter('link-ip') },
  });
  const protectedActions = createProtectedActions({
    bank,
    statements,
    links,
    sms: createTwilioSmsSender(twilioClient, { from: config.twilio.smsFrom }),
    smsLimit: createStatementSmsLimit({ redis: store.redis, keys }),
    catalogue,
    audit,
    logger,
    publicBaseUrl: config.publicBaseUrl,
    linkTtlSeconds: config.linkTtlSeconds,
  });
  appRouters['/api/v1'] = createProviderApiRouter({
    clients: config.apiClients,
    dataSecret: config.dataSecret,
    sessions,
    recentlyVerified,
    audit,
    metrics,
    logger,
    redis: store.redis,
    keys,
    clock,
    didTtlSeconds: config.did.ttlSeconds,
    verifyCallToken: (token, request) => callTokens.verify(token, request),
    callTokenOf: (sessionId) => sessions.tokenOf(sessionId),
    actions: protectedActions,
    catalogue,
    notifier,
    allowLoopbackHttpCallbacks: !config.isProduction,
    publicBaseUrl: config.publicBaseUrl,
    reservedProviders: APP_PROVIDERS,
    limits: perSecondLimits(config.apiRateLimits),
  });
  // The compliance console (A11), in every environment: reviewers sign in with AUDIT_REVIEWERS.
  const reviewers = { publicBaseUrl: config.publicBaseUrl, dataSecret: config.dataSecret, checkReviewer: createReviewerCheck(config.auditReviewers) };
  appRouters['/console'] = createConsole({ ...reviewers, audit, redis: store.redis, keys, clock, random, logger }).router;
  const actions = createIvrActions({ actions: protectedActions, sessions, verifyToken: (t, e) => callTokens.verify(t, e), audit, logger });
  const effects = createEffects({ sessions, audit, metrics, actions, clock });
  const driver = createIvrDriver({ engine: liveEngine, effects });
  const turns = createTurns({
    redis: store.redis,
    keys,
    sealer: createSealer(config.dataSecret, 'webhook-answer'),
    dictionary: answerDictionary([...flows.byId.values()].flatMap((f) => Object.values(f.prompts).flatMap((byLocale) => Object.values(byLocale)))),
  });

  const deps: AppDeps = {
    config,
    logger,
    clock,
    metrics,
    audit,
    store,
    sessions,
    devices,
    driver,
    turns,
    confirm,
    failClosed: engine.failClosedSpeech(),
    degraded: degradedModeFor(config, { engine: liveEngine, flows: () => flows, audit, metrics, clock }),
    ...(overrides.turnBudgetMs !== undefined ? { turnBudgetMs: overrides.turnBudgetMs } : {}),
    devRouters,
    appRouters,
    drain: createDrain(),
    readinessChecks: { statements: () => statements.ping(), auditTrail: () => audit.readiness() },
  };
  return {
    deps,
    notifier,
    close: async () => {
      flowWatch?.close();
      await notifier.idle();
      callsUpdate.close();
      await trail.close();
      if (!overrides.store) await store.close();
    },
  };
}
