import type { Router } from 'express';
import type { DestinationStream } from 'pino';
import { createAudit } from './audit/audit.js';
import { createMetrics } from './audit/metrics.js';
import type { AppDeps } from './app.js';
import type { Config } from './config/load.js';
import { createEngine } from './engine/engine.js';
import { loadFlows } from './flows/load.js';
import { createEffects, type ActionRunner } from './ivr/effects.js';
import { createIvrDriver } from './ivr/driver.js';
import { createLogger, type Logger } from './log/logger.js';
import { createScrubber } from './log/scrub.js';
import { cryptoRandom, systemClock, type Clock, type Random } from './shared/clock.js';
import { createSealer } from './shared/seal.js';
import { createStore, type Store } from './store/client.js';
import { createKeys } from './store/keys.js';
import type { LiveCallControl } from './telephony/live-call.js';
import { createSimulatorRestApi } from './telephony/simulator/rest-api.js';
import { createWebhookDedup } from './telephony/twilio/dedup.js';
import { createTwilioClient, createTwilioLiveCallControl } from './telephony/twilio/rest.js';
import { twilioUrls } from './telephony/twilio/webhooks.js';
import { createConfirm } from './verification/confirm.js';
import { createConfirmationVerifier } from './verification/confirmation-jws.js';
import { createDevices } from './verification/devices.js';
import { createDidCodec } from './verification/did.js';
import { createIntercept } from './verification/intercept.js';
import { createLockout } from './verification/lockout.js';
import { createJtiGuard } from './verification/replay.js';
import { createSessions } from './verification/sessions.js';

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
}

export interface Built {
  deps: AppDeps;
  close(): Promise<void>;
}

/** The one composition root (STYLE habit 2): every capability is built here and handed its dependencies. */
export async function buildDeps(config: Config, overrides: Overrides = {}): Promise<Built> {
  const clock = overrides.clock ?? systemClock;
  const random = overrides.random ?? cryptoRandom;
  const scrub = createScrubber([config.twilio.authToken, config.adminApiKey, ...config.apiClients.map((c) => c.secret)]);
  const logger = overrides.logger ?? createLogger({ level: config.logLevel, scrub, ...(overrides.logDestination ? { destination: overrides.logDestination } : {}) });
  // Flows are validated before anything connects: a broken flow file stops start-up here.
  const flows = loadFlows(config.flowsDir);
  const engine = createEngine(flows);

  const store = overrides.store ?? (await createStore(config.store));
  const keys = createKeys(config.keyPrefix);
  const metrics = createMetrics({ defaultMetrics: true });
  const audit = createAudit({ redis: store.redis, keys, logger, clock, metrics });

  const did = createDidCodec({ secret: config.dataSecret, length: config.did.length, random });
  const sessions = createSessions({
    redis: store.redis,
    keys,
    clock,
    random,
    did,
    tokenSealer: createSealer(config.dataSecret, 'call-token'),
    didTtlSeconds: config.did.ttlSeconds,
  });
  const devices = createDevices({ redis: store.redis, keys, clock, random });

  const devRouters: Record<string, Router> = {};
  let twilioApiBaseUrl = overrides.twilioApiBaseUrl ?? config.twilio.apiBaseUrl;
  if (twilioApiBaseUrl === undefined) {
    // Development without TWILIO_API_BASE_URL: the built-in simulator answers Twilio REST on our own port.
    const simulator = createSimulatorRestApi({ accountSid: config.twilio.accountSid, authToken: config.twilio.authToken });
    devRouters['/simulator/twilio'] = simulator.router;
    twilioApiBaseUrl = `http://127.0.0.1:${config.port}/simulator/twilio`;
  }
  const twilioClient = createTwilioClient({ accountSid: config.twilio.accountSid, authToken: config.twilio.authToken, apiBaseUrl: twilioApiBaseUrl });
  const liveCalls: Record<string, LiveCallControl> = {
    twilio: createTwilioLiveCallControl(twilioClient, overrides.redirectBackoffMs ? { backoffMs: overrides.redirectBackoffMs } : {}),
  };

  const urls = twilioUrls(config.publicBaseUrl);
  const intercept = createIntercept({
    sessions,
    liveCalls,
    verifiedUrl: (s) => urls.verified(s.sessionId),
    lateConfirmationPolicy: config.lateConfirmationPolicy,
    audit,
    metrics,
    clock,
    logger,
  });
  const confirm = createConfirm({
    verifier: createConfirmationVerifier({ devices, audience: config.publicBaseUrl, clock }),
    lockout: createLockout({ redis: store.redis, keys }),
    jti: createJtiGuard({ redis: store.redis, keys }),
    sessions,
    intercept,
    audit,
    metrics,
    logger,
  });

  // Protected actions arrive with the banking feature; until then the verified branch says so honestly.
  const actions: ActionRunner = async () => ({ kind: 'action.failed', prompt: 'action_unavailable', params: {} });
  const effects = createEffects({ sessions, audit, metrics, actions });
  const driver = createIvrDriver({ engine, effects, redis: store.redis, keys });
  const dedup = createWebhookDedup({ redis: store.redis, keys });

  const deps: AppDeps = {
    config,
    logger,
    metrics,
    audit,
    store,
    sessions,
    devices,
    driver,
    dedup,
    confirm,
    failClosed: engine.failClosedSpeech(),
    devRouters,
  };
  return {
    deps,
    close: async () => {
      if (!overrides.store) await store.close();
    },
  };
}
