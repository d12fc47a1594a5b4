import type { Config } from './load.js';

/**
 * The settings that change how the app treats callers and clients, by their setting names, as the
 * one start-up log line shows them (issue 16: an operator sees which policies are in force, and a
 * log search finds the line by a setting's name). Nothing secret: choices and numbers only.
 */
export function policiesInForce(config: Config) {
  return {
    FAIL_MODE: config.failMode,
    LATE_CONFIRMATION_POLICY: config.lateConfirmationPolicy,
    DID_TTL_SECONDS: config.did.ttlSeconds,
    DID_LENGTH: config.did.length,
    LINK_TTL_SECONDS: config.linkTtlSeconds,
    TRUST_PROXY: config.trustProxyHops,
    API_RATE_LIMIT_PER_CLIENT: config.apiRateLimits.perClient,
    API_RATE_LIMIT_PER_CALL: config.apiRateLimits.perCall,
    AUDIT_RETENTION_DAYS: config.audit.retentionDays,
    SHUTDOWN_DRAIN_SECONDS: config.shutdownDrainSeconds,
  } as const;
}

/** `policies in force: FAIL_MODE=closed, LATE_CONFIRMATION_POLICY=ignore, …` */
export function policiesLine(policies: ReturnType<typeof policiesInForce>): string {
  return `policies in force: ${Object.entries(policies)
    .map(([name, value]) => `${name}=${value}`)
    .join(', ')}`;
}
