import express, { Router, type RequestHandler } from 'express';
import type { Audit } from '../audit/audit.js';
import type { Metrics } from '../audit/metrics.js';
import { jsonErrorHandler, notFoundJson } from '../http/json-errors.js';
import { MAX_REISSUES } from '../ivr/effects.js';
import type { PromptCatalogue } from '../engine/catalogue.js';
import type { ProtectedActions } from '../ivr/protected-actions.js';
import type { Logger } from '../log/logger.js';
import type { Clock } from '../shared/clock.js';
import type { RedisClient } from '../store/client.js';
import type { Keys } from '../store/keys.js';
import type { RecentlyVerifiedCalls } from '../verification/recently-verified.js';
import type { Sessions } from '../verification/sessions.js';
import { mountActionRoutes, type VerifyCallToken } from './action-routes.js';
import { basicAuth, type ApiClient } from './auth.js';
import { idempotency } from './idempotency.js';
import { buildOpenApiDocument } from './openapi.js';
import { createApiLimiter, type ApiLimits } from './rate-limit.js';
import { createCredentialRefusals } from './refusals.js';
import { mountSessionRoutes } from './session-routes.js';
import { responseSizeGuard } from './size-guard.js';
import { mountVerificationRoute } from './verification-route.js';
import type { TerminalNotifier } from './terminal.js';

/** Long enough that a 90 s code costs a flow ~45 polls (well inside Genesys' 10,000-action budget), short enough to feel instant. */
export const DEFAULT_POLL_AFTER_MS = 2000;

export interface ProviderApiDeps {
  /** `config.apiClients`. */
  clients: readonly ApiClient[];
  sessions: Sessions;
  /** Calls marked recently verified by a late confirmation (A4), read by `GET /calls/{callId}/verification`. */
  recentlyVerified: RecentlyVerifiedCalls;
  audit: Audit;
  metrics: Metrics;
  logger: Logger;
  redis: RedisClient;
  keys: Keys;
  clock: Clock;
  /** `config.dataSecret`: seals the stored Idempotency-Key answers. */
  dataSecret: Buffer;
  didTtlSeconds: number;
  /** The call-token module's `verify` (A7): resolves the claims, throws AppError('unauthorized') on refusal. */
  verifyCallToken: VerifyCallToken;
  /** The call token of a confirmed session, or null (not confirmed, expired, call ended). */
  callTokenOf: (sessionId: string) => Promise<string | null>;
  actions: ProtectedActions;
  /** The flows' prompt catalogue: `prompts.speak` / `loop` and their locale. */
  catalogue: PromptCatalogue;
  /** Shared with the confirm use case, which calls `notifyTerminal` on every confirmation. */
  notifier: TerminalNotifier;
  /** `!config.isProduction`: lets a callback go to http://127.0.0.1 in development and tests. */
  allowLoopbackHttpCallbacks: boolean;
  /** `config.publicBaseUrl`, named as the server in the OpenAPI document. */
  publicBaseUrl?: string;
  /** From API_RATE_LIMIT_PER_CLIENT and API_RATE_LIMIT_PER_CALL (`perSecondLimits`). */
  limits: ApiLimits;
  pollAfterMs?: number;
  maxReissues?: number;
  /** Providers an API client may not claim: those whose calls the app controls itself. */
  reservedProviders?: readonly string[];
}

/**
 * The provider-neutral API (DESIGN A5), mounted at `/api/v1`. Every answer passes the 32 KB guard
 * and carries `Cache-Control: no-store` (codes and tokens must not sit in a cache); the OpenAPI
 * document is public, everything else needs an API client's Basic credentials or a call token.
 */
export function createProviderApiRouter(deps: ProviderApiDeps): Router {
  const router = Router();
  const limiter = createApiLimiter({ redis: deps.redis, keys: deps.keys, clock: deps.clock, limits: deps.limits });
  const refusals = createCredentialRefusals({ clock: deps.clock, logger: deps.logger });
  const idempotent = idempotency({ redis: deps.redis, keys: deps.keys, logger: deps.logger, dataSecret: deps.dataSecret });
  // Authentication first: the store-backed limits count only requests that authenticated.
  const authenticated: RequestHandler[] = [basicAuth(deps.clients, refusals), limiter.perClient];
  const openApi = buildOpenApiDocument(deps.publicBaseUrl ? { serverUrl: deps.publicBaseUrl } : {});

  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  router.use(responseSizeGuard(deps.logger));
  router.get('/openapi.json', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(openApi);
  });
  router.use(express.json({ limit: '16kb' }));

  mountSessionRoutes(router, {
    sessions: deps.sessions,
    recentlyVerified: deps.recentlyVerified,
    audit: deps.audit,
    metrics: deps.metrics,
    clock: deps.clock,
    notifier: deps.notifier,
    records: deps.notifier.records,
    limiter,
    authenticated,
    idempotent,
    callTokenOf: deps.callTokenOf,
    catalogue: deps.catalogue,
    pollAfterMs: deps.pollAfterMs ?? DEFAULT_POLL_AFTER_MS,
    maxReissues: deps.maxReissues ?? MAX_REISSUES,
    reservedProviders: new Set((deps.reservedProviders ?? ['twilio']).map((p) => p.toLowerCase())),
    allowLoopbackHttpCallbacks: deps.allowLoopbackHttpCallbacks,
  });
  mountVerificationRoute(router, { sessions: deps.sessions, recentlyVerified: deps.recentlyVerified, limiter, authenticated });
  mountActionRoutes(router, {
    sessions: deps.sessions,
    audit: deps.audit,
    logger: deps.logger,
    records: deps.notifier.records,
    limiter,
    refusals,
    idempotent,
    verifyCallToken: deps.verifyCallToken,
    actions: deps.actions,
  });

  router.use(notFoundJson);
  router.use(jsonErrorHandler(deps.logger));
  return router;
}
