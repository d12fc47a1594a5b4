import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A local stand-in for Twilio's REST API, running in the load generator's process so that
 * "confirmation POST sent" and "calls.update received" are read from one clock. It answers
 * `POST …/Calls/{sid}.json` like Twilio (200 + a call resource) and notes when each arrived.
 */
export interface TwilioStandIn {
  baseUrl: string;
  /** Resolves with performance.now() at the moment the redirect of `callSid` arrived. */
  redirectOf(callSid: string, timeoutMs?: number): Promise<number>;
  /** Stops waiting for the redirect of `callSid` (its confirmation failed); the pending promise rejects. */
  forget(callSid: string): void;
  updates(): number;
  close(): Promise<void>;
}

const CALL_PATH = /\/Accounts\/([^/]+)\/Calls\/([^/]+)\.json$/;

export async function startTwilioStandIn(): Promise<TwilioStandIn> {
  const arrived = new Map<string, number>();
  const waiters = new Map<string, (t: number) => void>();
  const cancels = new Map<string, () => void>();
  let updates = 0;

  const server: Server = createServer((req, res) => {
    // Timestamp on the request line, before the body: that is when Twilio would have the redirect.
    const at = performance.now();
    const match = CALL_PATH.exec((req.url ?? '').split('?')[0] ?? '');
    req.resume();
    req.on('end', () => {
      if (!match || req.method !== 'POST') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"code":20404,"message":"The requested resource was not found","status":404}');
        return;
      }
      const [, account, sid] = match as unknown as [string, string, string];
      updates++;
      const waiter = waiters.get(sid);
      if (waiter) {
        waiters.delete(sid);
        waiter(at);
      } else arrived.set(sid, at);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ sid, account_sid: account, status: 'in-progress' }));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    redirectOf(callSid, timeoutMs = 10_000) {
      const seen = arrived.get(callSid);
      if (seen !== undefined) {
        arrived.delete(callSid);
        return Promise.resolve(seen);
      }
      return new Promise((resolve, reject) => {
        const fail = () => {
          clearTimeout(timer);
          waiters.delete(callSid);
          cancels.delete(callSid);
          reject(new Error(`no calls.update for ${callSid.slice(-4)} reached the stand-in`));
        };
        const timer = setTimeout(fail, timeoutMs);
        cancels.set(callSid, fail);
        waiters.set(callSid, (t) => {
          clearTimeout(timer);
          cancels.delete(callSid);
          resolve(t);
        });
      });
    },
    forget: (callSid) => {
      arrived.delete(callSid);
      cancels.get(callSid)?.();
    },
    updates: () => updates,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
