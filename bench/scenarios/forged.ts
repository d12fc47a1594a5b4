import { performance } from 'node:perf_hooks';
import type { Request, Response } from 'express';
import { pino } from 'pino';
import { createMetrics } from '../../src/audit/metrics.js';
import { createLogger } from '../../src/log/logger.js';
import { createScrubber } from '../../src/log/scrub.js';
import { createWebhookRefusals } from '../../src/telephony/twilio/refusals.js';
import { twilioSignature } from '../../src/telephony/twilio/signature.js';
import { systemClock } from '../../src/shared/clock.js';
import type { Bench } from '../lib/context.js';
import { hammer, type HammerResult } from '../lib/hammer.js';
import { commandStats } from '../lib/redis-stats.js';
import { Samples, type Summary } from '../lib/stats.js';
import { callParams, createSigner, newCallSid, pressed } from '../lib/webhook.js';

export interface ForgedFigures {
  /** The signature middleware refusing a forged wait-loop webhook, in process: microseconds. */
  refuseUs: Summary;
  /** The same middleware letting a genuine one through (what every real webhook pays for the check). */
  acceptUs: Summary;
  http: HammerResult;
  /** Over HTTP against the app: commands the app sent to Redis, and commands Redis executed. */
  appCommands: number;
  redisCommands: number;
  redirects: number;
}

/**
 * Times the real middleware (real metrics, the rate-limited refusal line and a pino logger at
 * `info`, as in production). It is given no store at all: the HTTP run below shows none is used.
 */
function timeMiddleware(iterations: number): { refuseUs: Summary; acceptUs: Summary } {
  const authToken = 'bench-token-0123456789abcdef';
  const publicBaseUrl = 'https://ivr.bench.test/ivr';
  // A real file descriptor written synchronously, as the app's pino writes to stdout: a refusal's
  // log line (one per interval) costs its write(2) here too, not just its serialisation.
  const sink = pino.destination({ dest: '/dev/null', sync: true });
  const logger = createLogger({ level: 'info', destination: sink, scrub: createScrubber([authToken]) });
  const metrics = createMetrics();
  const refuse = createWebhookRefusals({ metrics, logger, clock: systemClock });
  const middleware = twilioSignature({ authToken, publicBaseUrl, refuse });
  const signer = createSigner({ authToken, accountSid: 'AC' + '0'.repeat(32), publicBaseUrl });
  const path = '/twilio/step?t=2';
  const params = callParams(signer.accountSid, newCallSid(), pressed('1'));
  const genuine = signer.sign(path, params).headers['x-twilio-signature'] ?? '';

  // Different forged signatures, as a flood would send them.
  const forgeries = Array.from({ length: 1024 }, () => signer.forge(path, params).headers['x-twilio-signature'] ?? '');

  const run = (kind: 'forged' | 'genuine', n: number, out?: Samples) => {
    let passed = 0;
    let refused = 0;
    let signature = genuine;
    const req = { header: () => signature, originalUrl: path, path: '/step' } as unknown as Request;
    const twilioForm = new Map(Object.entries(params).map(([k, v]) => [k, [v]]));
    const res = { locals: { twilioForm }, status: () => res, type: () => res, send: () => ((refused++), res) } as unknown as Response;
    const next = () => void passed++;
    for (let i = 0; i < n; i++) {
      if (kind === 'forged') signature = forgeries[i & 1023] as string;
      const t = performance.now();
      middleware(req, res, next);
      out?.push((performance.now() - t) * 1000);
    }
    return { passed, refused };
  };
  run('forged', Math.min(20_000, iterations)); // warm-up: let V8 optimise both paths
  run('genuine', Math.min(20_000, iterations));
  const refused = new Samples();
  const accepted = new Samples();
  const r = run('forged', iterations, refused);
  const a = run('genuine', iterations, accepted);
  if (r.passed !== 0 || r.refused !== iterations || a.passed !== iterations) throw new Error('signature middleware did not behave as expected');
  return { refuseUs: refused.summary(), acceptUs: accepted.summary() };
}

/** Forged webhooks: their in-process cost, and over HTTP the proof that they reach neither Redis nor Twilio. */
export async function forgedSignatures(b: Bench, httpRequests: number, iterations: number): Promise<ForgedFigures> {
  const micro = timeMiddleware(iterations);
  const req = { ...b.signer.forge('/twilio/step?t=2', callParams(b.signer.accountSid, newCallSid(), pressed('1'))), tag: 'forged' };
  // The audit drainer's own polling is not the forged requests' doing: it is paused for this phase.
  await b.app.ask('auditPause');
  const [c0, s0] = await Promise.all([b.app.ask<{ commands: number }>('counts'), commandStats(b.redis)]);
  const redirects0 = b.twilio.updates();
  const http = await hammer({ origin: b.origin, connections: 16, amount: httpRequests, status: 403, next: () => req });
  const [c1, s1] = await Promise.all([b.app.ask<{ commands: number }>('counts'), commandStats(b.redis)]);
  await b.app.ask('auditResume');
  return {
    ...micro,
    http,
    appCommands: c1.commands - c0.commands,
    redisCommands: s1.total - s0.total,
    redirects: b.twilio.updates() - redirects0,
  };
}
