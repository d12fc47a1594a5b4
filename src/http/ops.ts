import { Router, type RequestHandler } from 'express';
import type { Metrics } from '../audit/metrics.js';

/** The app's shutdown state (DESIGN A12): main.ts starts the drain, /readyz and every answer see it. */
export interface Drain {
  readonly draining: boolean;
  begin(): void;
}

export function createDrain(): Drain {
  let draining = false;
  return {
    get draining() {
      return draining;
    },
    begin: () => {
      draining = true;
    },
  };
}

/**
 * While draining, every answer says `Connection: close` and Node closes its socket once it is sent:
 * a client never sends its next request on a keep-alive connection we are about to close, which
 * is how a connection gets reset with a request in it.
 */
export function closeConnectionsWhileDraining(drain: Drain): RequestHandler {
  return (_req, res, next) => {
    if (drain.draining) res.setHeader('Connection', 'close');
    next();
  };
}

/**
 * /healthz (process up), /readyz (not draining, the store takes a write, required adapters
 * reachable), /metrics (Prometheus). A check that resolves is ready; it may resolve with a word
 * that says how (the audit trail's `lagging`: ready, but its database is behind, A11), which
 * /readyz shows without answering 503.
 */
export function createOpsRouter(deps: { metrics: Metrics; drain: Drain; checks: Record<string, () => Promise<void | string>> }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    // A load balancer takes us out first; the checks would only delay saying so.
    if (deps.drain.draining) {
      res.status(503).json({ status: 'draining', checks: {} });
      return;
    }
    const results = await Promise.all(
      Object.entries(deps.checks).map(async ([name, check]) => {
        try {
          const status = await withTimeout(check(), 1000);
          return [name, typeof status === 'string' ? status : 'ok'] as const;
        } catch {
          return [name, 'unavailable'] as const;
        }
      }),
    );
    const ready = results.every(([, s]) => s !== 'unavailable');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return router;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
