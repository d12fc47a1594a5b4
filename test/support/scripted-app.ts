import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Timers } from '../../src/telephony/simulator/types.js';

export interface SeenWebhook {
  method: string;
  /** Path and query as the app received it (no PUBLIC_BASE_URL prefix). */
  path: string;
  params: Record<string, string>;
  signature: string | undefined;
  idempotencyToken: string | undefined;
}

type Answer = string | { status: number; type: string; body: string };

/**
 * A stand-in for the IVR app: answers each path with scripted TwiML and records what the phone
 * simulator sent, so the simulator's side of the webhook contract can be checked on its own.
 */
export async function startScriptedApp(routes: Record<string, Answer | ((params: Record<string, string>) => Answer)>) {
  const seen: SeenWebhook[] = [];
  const server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      const path = req.url ?? '/';
      const params = Object.fromEntries(new URLSearchParams(raw));
      seen.push({
        method: req.method ?? 'GET',
        path,
        params,
        signature: req.headers['x-twilio-signature'] as string | undefined,
        idempotencyToken: req.headers['i-twilio-idempotency-token'] as string | undefined,
      });
      const route = routes[path.split('?')[0] ?? '/'];
      const answer = typeof route === 'function' ? route(params) : (route ?? '<Response/>');
      const a = typeof answer === 'string' ? { status: 200, type: 'text/xml', body: answer } : answer;
      res.writeHead(a.status, { 'content-type': a.type });
      res.end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Timers a test fires by hand: it sees how long the simulator meant to wait, and nothing waits for real. */
export function handTimers() {
  const armed: { ms: number; fire: () => void; live: boolean }[] = [];
  const timers: Timers = {
    start(ms, fire) {
      const t = { ms, fire, live: true };
      armed.push(t);
      return () => {
        t.live = false;
      };
    },
  };
  return {
    timers,
    /** The timer waiting now, if any. */
    pending: () => armed.filter((t) => t.live).at(-1),
  };
}
