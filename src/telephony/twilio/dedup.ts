import { createHash } from 'node:crypto';
import type { RedisClient } from '../../store/client.js';
import { ttl, type Keys } from '../../store/keys.js';

const IN_FLIGHT = '\u0000in-flight';

/**
 * Webhook retries are safe (DESIGN A3): the first delivery claims the key atomically (SET NX) and
 * stores its TwiML; a retry (same `I-Twilio-Idempotency-Token`, or same CallSid + path + params)
 * gets the stored TwiML and causes no second side effect.
 */
export function webhookDigest(path: string, params: Record<string, string>, idempotencyToken?: string): string {
  const h = createHash('sha256');
  if (idempotencyToken) h.update(`token\n${idempotencyToken}`);
  else {
    h.update(`params\n${path}\n`);
    for (const k of Object.keys(params).sort()) h.update(`${k}=${params[k]}\n`);
  }
  return h.digest('base64url');
}

export function createWebhookDedup(deps: { redis: RedisClient; keys: Keys; waitMs?: number; pollMs?: number }) {
  const waitMs = deps.waitMs ?? 3000;
  const pollMs = deps.pollMs ?? 25;
  /** Runs `produce` once per digest; returns its TwiML, the stored TwiML of a retry, or null if the first is still running. */
  async function once(callId: string, digest: string, produce: () => Promise<string>): Promise<string | null> {
      const key = deps.keys.webhook(callId, digest);
      const claimed = await deps.redis.set(key, IN_FLIGHT, 'PX', ttl.webhookInFlightMs, 'NX');
      if (claimed === 'OK') {
        let twiml: string;
        try {
          twiml = await produce();
        } catch (err) {
          // Let a retry try again rather than replaying a failure.
          await deps.redis.del(key).catch(() => undefined);
          throw err;
        }
        await deps.redis.set(key, twiml, 'PX', ttl.webhookDedupMs);
        return twiml;
      }
      const deadline = Date.now() + waitMs;
      for (;;) {
        const stored = await deps.redis.get(key);
        if (stored !== null && stored !== IN_FLIGHT) return stored;
        // The first attempt failed and let go of its claim: this delivery may try.
        if (stored === null) return once(callId, digest, produce);
        if (Date.now() >= deadline) return null;
        await new Promise((r) => setTimeout(r, pollMs));
      }
  }
  return { once };
}

export type WebhookDedup = ReturnType<typeof createWebhookDedup>;
