import { Router } from 'express';
import type { Audit } from '../audit/audit.js';
import { createAuditedReads } from '../audit/reads.js';
import type { Reviewer } from '../audit/reviewers.js';
import type { Logger } from '../log/logger.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { Devices } from '../verification/devices.js';
import { createAdminAuth, type ReviewerFailureLimit } from './admin-auth.js';
import { createDeviceRoutes } from './admin-devices.js';
import { createAuditRoutes } from './audit-routes.js';

export { enrollDeviceBody, type EnrollDeviceBody } from './admin-devices.js';

/**
 * Back office (DESIGN A4, A9, A11), mounted at `/admin/v1`. Device enrolment and revocation take the
 * admin key only; the audit routes (calls search, a call's events, export, verify) take the admin
 * key or a named reviewer (AUDIT_REVIEWERS), who can do nothing else here or anywhere.
 */
export function createAdminRouter(deps: {
  adminApiKey: string;
  /** AUDIT_REVIEWERS; none = the audit routes take the admin key only. */
  auditReviewers?: readonly Reviewer[];
  devices: Devices;
  audit: Audit;
  logger: Logger;
  clock?: Clock;
  /** The console's sign-in limit, shared by reviewer credentials here. */
  reviewerLimit?: ReviewerFailureLimit;
}): Router {
  const auth = createAdminAuth({
    adminApiKey: deps.adminApiKey,
    reviewers: deps.auditReviewers ?? [],
    logger: deps.logger,
    clock: deps.clock ?? systemClock,
    ...(deps.reviewerLimit ? { reviewerLimit: deps.reviewerLimit } : {}),
  });
  const router = Router();
  router.use('/devices', auth.adminOnly, createDeviceRoutes({ devices: deps.devices, audit: deps.audit }));
  router.use(auth.adminOrReviewer, createAuditRoutes({ reads: createAuditedReads(deps.audit), logger: deps.logger }));
  return router;
}
