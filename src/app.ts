import express, { type Express, type Router } from 'express';
import type { Audit } from './audit/audit.js';
import type { Metrics } from './audit/metrics.js';
import type { Config } from './config/load.js';
import { createSignInLimit } from './console/sign-in-limit.js';
import { createAdminRouter } from './http/admin.js';
import { createAuthenticatorRouter } from './http/authenticator.js';
import { jsonErrorHandler, notFoundJson } from './http/json-errors.js';
import { closeConnectionsWhileDraining, createOpsRouter, type Drain } from './http/ops.js';
import type { IvrDriver } from './ivr/driver.js';
import type { Logger } from './log/logger.js';
import type { Clock } from './shared/clock.js';
import type { Store } from './store/client.js';
import { createKeys } from './store/keys.js';
import type { Turns } from './ivr/turns.js';
import { createTwilioWebhooks, type FailClosedSpeech } from './telephony/twilio/webhooks.js';
import type { DegradedMode } from './ivr/degraded.js';
import type { ConfirmAnswer, ConfirmContext } from './verification/confirm.js';
import type { Devices } from './verification/devices.js';
import type { Sessions } from './verification/sessions.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  clock: Clock;
  metrics: Metrics;
  audit: Audit;
  store: Store;
  sessions: Sessions;
  devices: Devices;
  driver: IvrDriver;
  turns: Turns;
  confirm: (jws: string, context?: ConfirmContext) => Promise<ConfirmAnswer>;
  failClosed: FailClosedSpeech;
  /** FAIL_MODE=open-low-risk (DESIGN A10); undefined with `closed`. */
  degraded?: DegradedMode | undefined;
  /** A webhook turn's budget; unset = TURN_BUDGET_MS (10 s, DESIGN A3). Only tests set it. */
  turnBudgetMs?: number;
  /** Development-only routers (the phone simulator's REST side, the /dev console); absent in production. */
  devRouters?: Record<string, Router>;
  /** SIGTERM's drain (main.ts begins it): /readyz says 503 and answers close their connection. */
  drain: Drain;
  /** Adapters /readyz checks beside the store (the statement store…): name → ping. */
  readinessChecks?: Record<string, () => Promise<void | string>>;
  /** Routers of optional features (statement links, local statement downloads), mounted in every environment. */
  appRouters?: Record<string, Router>;
}

/** Builds the HTTP app from its dependencies: no listen, no process.env (STYLE habit 1). */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Nobody revalidates a TwiML or JSON answer; Express would hash every body for an ETag.
  app.set('etag', false);
  // TRUST_PROXY hops decide `req.ip` (rate limits, audit sourceIp) and nothing else: PUBLIC_BASE_URL
  // is the only source of our own URL, so no route reads req.protocol, req.hostname or Host.
  app.set('trust proxy', deps.config.trustProxyHops > 0 ? deps.config.trustProxyHops : false);

  app.use(closeConnectionsWhileDraining(deps.drain));
  app.use(createOpsRouter({ metrics: deps.metrics, drain: deps.drain, checks: { store: () => deps.store.writable(), ...deps.readinessChecks } }));

  app.use(
    '/twilio',
    createTwilioWebhooks({
      publicBaseUrl: deps.config.publicBaseUrl,
      authToken: deps.config.twilio.authToken,
      driver: deps.driver,
      turns: deps.turns,
      sessions: deps.sessions,
      audit: deps.audit,
      metrics: deps.metrics,
      logger: deps.logger,
      clock: deps.clock,
      failClosed: deps.failClosed,
      ...(deps.degraded ? { degraded: deps.degraded } : {}),
      ...(deps.turnBudgetMs !== undefined ? { turnBudgetMs: deps.turnBudgetMs } : {}),
    }),
  );

  app.use('/authenticator/v1', createAuthenticatorRouter({ confirm: deps.confirm }));
  app.use(
    '/admin/v1',
    express.json({ limit: '16kb' }),
    createAdminRouter({
      adminApiKey: deps.config.adminApiKey,
      auditReviewers: deps.config.auditReviewers,
      devices: deps.devices,
      audit: deps.audit,
      logger: deps.logger,
      clock: deps.clock,
      // The console's counters in the store: one budget of failures per reviewer, Basic or sign-in form.
      reviewerLimit: createSignInLimit({ redis: deps.store.redis, keys: createKeys(deps.config.keyPrefix), clock: deps.clock }),
    }),
  );

  for (const [path, router] of Object.entries(deps.appRouters ?? {})) app.use(path, router);

  if (!deps.config.isProduction) {
    for (const [path, router] of Object.entries(deps.devRouters ?? {})) app.use(path, router);
  }

  app.use(notFoundJson);
  app.use(jsonErrorHandler(deps.logger));
  return app;
}
