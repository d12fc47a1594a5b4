import { createServer, type RequestListener, type Server } from 'node:http';
import type { Logger } from '../log/logger.js';
import type { Drain } from './ops.js';

/**
 * Slow clients cannot hold the server (DESIGN A12): headers within 10 s and a whole request within
 * 30 s. Node measures headersTimeout from the first byte of each request (not from the idle time
 * before it), so a long keep-alive does not eat into it; Node also refuses a headersTimeout above
 * requestTimeout.
 */
export const SERVER_TIMEOUTS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  /**
   * Longer than a load balancer's idle timeout (AWS ALB 60 s, GCP 600 s is configurable, nginx
   * upstream keepalive 60 s): the balancer, not us, closes an idle connection, so it never sends a
   * request on one we have just closed.
   */
  keepAliveTimeoutMs: 65_000,
  /** How often Node looks for connections past those timeouts (its default, 30 s, would triple them). */
  checkIntervalMs: 1000,
} as const;

export function createHttpServer(app: RequestListener): Server {
  const server = createServer(
    {
      headersTimeout: SERVER_TIMEOUTS.headersTimeoutMs,
      requestTimeout: SERVER_TIMEOUTS.requestTimeoutMs,
      connectionsCheckingInterval: SERVER_TIMEOUTS.checkIntervalMs,
    },
    app,
  );
  server.keepAliveTimeout = SERVER_TIMEOUTS.keepAliveTimeoutMs;
  return server;
}

/** After the listener closes, requests in flight get this long (DESIGN A12: drain + 10 s in all, with time left to close the store). */
const FINISH_IN_FLIGHT_MS = 8_000;
const IDLE_SWEEP_MS = 200;

/**
 * The drain of DESIGN A12: /readyz says 503 at once and every answer closes its connection, for
 * `drainSeconds` everything is still served, then the listener closes, requests in flight finish and
 * each keep-alive connection is closed once it is between requests. Resolves `true` when every
 * connection ended in time, `false` when the last ones had to be cut.
 */
export function drainServer(server: Server, drain: Drain, options: { drainSeconds: number; logger: Logger }): Promise<boolean> {
  drain.begin();
  options.logger.info({ drainSeconds: options.drainSeconds }, 'draining: /readyz is 503, still serving until the listener closes');
  return new Promise((resolve) => {
    setTimeout(() => {
      options.logger.info('draining: listener closed, finishing requests in flight');
      // A connection becomes idle when its last answer has gone; close each as soon as it is.
      const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
      const cut = setTimeout(() => {
        clearInterval(sweep);
        options.logger.warn('draining: requests still in flight after the drain; closing their connections');
        server.closeAllConnections();
        resolve(false);
      }, FINISH_IN_FLIGHT_MS);
      server.close(() => {
        clearTimeout(cut);
        clearInterval(sweep);
        resolve(true);
      });
      server.closeIdleConnections();
    }, options.drainSeconds * 1000);
  });
}
