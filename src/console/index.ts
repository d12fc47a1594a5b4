import type { Router } from 'express';
import type { Audit } from '../audit/audit.js';
import { createAuditedReads } from '../audit/reads.js';
import type { Logger } from '../log/logger.js';
import type { Clock, Random } from '../shared/clock.js';
import type { RedisClient } from '../store/client.js';
import type { Keys } from '../store/keys.js';
import { createConsoleRouter } from './router.js';
import { createConsoleSessions } from './sessions.js';
import { createSignInLimit } from './sign-in-limit.js';

export interface ConsoleDeps {
  publicBaseUrl: string;
  dataSecret: Buffer;
  /** AUDIT_REVIEWERS' check (src/audit/reviewers.ts). */
  checkReviewer: (name: string, secret: string) => { name: string } | undefined;
  audit: Audit;
  redis: RedisClient;
  keys: Keys;
  clock: Clock;
  random: Random;
  logger: Logger;
}

/** The compliance console (DESIGN A11): its router, to mount at `/console` in every environment. */
export function createConsole(deps: ConsoleDeps): { router: Router } {
  const { redis, keys, clock } = deps;
  return {
    router: createConsoleRouter({
      sessions: createConsoleSessions({ redis, keys, clock, random: deps.random, dataSecret: deps.dataSecret }),
      limit: createSignInLimit({ redis, keys, clock }),
      checkReviewer: deps.checkReviewer,
      reads: createAuditedReads(deps.audit),
      logger: deps.logger,
      // Routes are served at /…, the browser sees PUBLIC_BASE_URL + route: cookies follow the public path.
      basePath: new URL(deps.publicBaseUrl).pathname.replace(/\/+$/, ''),
    }),
  };
}
