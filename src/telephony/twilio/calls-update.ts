import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * `calls(sid).update({ url, method })` as one keep-alive HTTP request: the same endpoint, form and
 * Basic credentials the twilio SDK sends, without its per-request machinery (axios, request
 * building, the CallInstance it parses), which cost about 0.2 ms on the one path where a caller
 * waits in silence: confirmation → redirect (BENCHMARKS.md, unit costs). SMS and everything else
 * still go through the SDK. See docs/decisions/0009-direct-calls-update.md.
 */
export interface CallsUpdateOptions {
  accountSid: string;
  authToken: string;
  /** Origin replacing https://api.twilio.com (a simulator, a proxy). */
  apiBaseUrl: string;
  /** Per attempt. */
  timeoutMs?: number;
}

/** What Twilio answered: its HTTP status and, on an error, its error code. */
export type CallsUpdateAnswer = { status: number; code?: number } | { status: 0; network: string };

export function createCallsUpdate(opts: CallsUpdateOptions) {
  const base = new URL(opts.apiBaseUrl.replace(/\/+$/, ''));
  const secure = base.protocol === 'https:';
  const agent = secure ? new HttpsAgent({ keepAlive: true, maxSockets: 64 }) : new HttpAgent({ keepAlive: true, maxSockets: 64 });
  const send = secure ? httpsRequest : httpRequest;
  const authorization = `Basic ${Buffer.from(`${opts.accountSid}:${opts.authToken}`).toString('base64')}`;
  const basePath = `${base.pathname.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(opts.accountSid)}/Calls/`;
  const timeoutMs = opts.timeoutMs ?? 3000;

  function update(callSid: string, url: string): Promise<CallsUpdateAnswer> {
    const body = new URLSearchParams({ Url: url, Method: 'POST' }).toString();
    return new Promise((resolve) => {
      const req = send(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          path: `${basePath}${encodeURIComponent(callSid)}.json`,
          method: 'POST',
          agent,
          timeout: timeoutMs,
          headers: {
            authorization,
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
            accept: 'application/json',
            'user-agent': 'vaultline-ivr',
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            res.resume();
            resolve({ status });
            return;
          }
          let raw = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (raw.length < 8192) raw += chunk;
          });
          res.on('end', () => resolve({ status, ...errorCode(raw) }));
          res.on('error', () => resolve({ status }));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, network: err.code ?? err.message }));
      req.end(body);
    });
  }

  return { update, close: () => agent.destroy() };
}

function errorCode(raw: string): { code?: number } {
  try {
    const code = (JSON.parse(raw) as { code?: unknown }).code;
    return typeof code === 'number' ? { code } : {};
  } catch {
    return {};
  }
}

export type CallsUpdate = ReturnType<typeof createCallsUpdate>;
