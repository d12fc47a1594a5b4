import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type CoreHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** A local fake of the core-banking API (docs/banking-api.md): records requests, answers as scripted. */
export async function startFakeCore() {
  const requests: { method: string; path: string; authorization: string | undefined }[] = [];
  let handler: CoreHandler = (_req, res) => json(res, 500, { error: 'not scripted' });
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', authorization: req.headers.authorization });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/core/v1`,
    requests,
    answer(h: CoreHandler) {
      handler = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export type FakeCore = Awaited<ReturnType<typeof startFakeCore>>;

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export const ADA = {
  id: 'cust_001',
  name: 'Ada Lovelace',
  mobile: '+14155550101',
  locale: 'en-US',
  accounts: [{ id: 'acc_001', number: '4000123412349876', type: 'checking', currency: 'USD' }],
};

/** A healthy core with Ada on file; anything else is 404. */
export const healthy: CoreHandler = (req, res) => {
  const path = (req.url ?? '').replace(/^\/core\/v1/, '');
  if (path === '/customers/cust_001') return json(res, 200, ADA);
  if (path === '/customers/cust_001/accounts/acc_001/balance') return json(res, 200, { available: '1250.50', currency: 'USD' });
  if (path === '/customers/cust_001/accounts/acc_001/statements') {
    return json(res, 200, { statements: [{ period: '2026-09', file: 'cust_001/acc_001/2026-09.pdf' }, { period: '2026-10', file: 'cust_001/acc_001/2026-10.pdf' }] });
  }
  json(res, 404, { error: 'not_found' });
};
