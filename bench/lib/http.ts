import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface Answer {
  status: number;
  body: string;
  /** From just before the request is written to the last byte of the answer. */
  ms: number;
}

/** A keep-alive HTTP client for the scenarios that drive calls one by one (preparation, confirmations, capacity). */
export function httpClient(origin: string, maxSockets = 64) {
  const url = new URL(origin);
  const agent = new Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 1000 });
  function post(path: string, body: string, headers: Record<string, string>, timeoutMs = 10_000): Promise<Answer> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, method: 'POST', path, agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
          res.on('error', reject);
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
  return { post, close: () => agent.destroy() };
}

export type HttpClient = ReturnType<typeof httpClient>;

/** Runs `work` over `items` with at most `limit` in flight. */
export async function inParallel<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await work(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
