import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  form: Record<string, string>;
  authorization: string | undefined;
}

type Responder = (req: RecordedRequest) => { status: number; body: unknown } | undefined;

/**
 * A local stand-in for Twilio's REST API: records every request and answers like Twilio, or as a
 * test scripts it (500s, a call that is gone…). No network beyond loopback.
 */
export async function startTwilioFake() {
  const requests: RecordedRequest[] = [];
  const responders: Responder[] = [];
  const waiters: { predicate: (r: RecordedRequest) => boolean; resolve: (r: RecordedRequest) => void }[] = [];

  const server: Server = createServer((req, res) => {
    readBody(req).then((raw) => {
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path: (req.url ?? '/').split('?')[0] ?? '/',
        form: Object.fromEntries(new URLSearchParams(raw)),
        authorization: req.headers.authorization,
      };
      requests.push(rec);
      for (const w of [...waiters]) {
        if (w.predicate(rec)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(rec);
        }
      }
      const scripted = responders.map((r) => r(rec)).find((x) => x !== undefined);
      const answer = scripted ?? defaultAnswer(rec);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    }, () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    callUpdates: () => requests.filter((r) => /\/Calls\/[^/]+\.json$/.test(r.path) && r.method === 'POST'),
    messages: () => requests.filter((r) => r.path.endsWith('/Messages.json') && r.method === 'POST'),
    /** Adds a scripted answer; return undefined from it to fall through to the default. */
    respond(responder: Responder) {
      responders.push(responder);
    },
    /** Resolves with the first request (already seen or future) matching the predicate. */
    waitFor(predicate: (r: RecordedRequest) => boolean, timeoutMs = 5000): Promise<RecordedRequest> {
      const seen = requests.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no matching request reached the Twilio stand-in')), timeoutMs);
        waiters.push({ predicate, resolve: (r) => (clearTimeout(t), resolve(r)) });
      });
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

export type TwilioFake = Awaited<ReturnType<typeof startTwilioFake>>;

function defaultAnswer(rec: RecordedRequest): { status: number; body: unknown } {
  const call = /\/Accounts\/([^/]+)\/Calls\/([^/]+)\.json$/.exec(rec.path);
  if (call) return { status: 200, body: { sid: call[2], account_sid: call[1], status: 'in-progress' } };
  const msg = /\/Accounts\/([^/]+)\/Messages\.json$/.exec(rec.path);
  if (msg) return { status: 201, body: { sid: 'SM' + '0'.repeat(32), account_sid: msg[1], status: 'queued', to: rec.form.To, from: rec.form.From } };
  return { status: 404, body: { code: 20404, message: 'The requested resource was not found', status: 404 } };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
