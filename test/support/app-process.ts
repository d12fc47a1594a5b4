import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { request as httpRequest, type Agent } from 'node:http';
import twilio from 'twilio';
import { FIXTURE_FLOWS_DIR } from './flows.js';

/** The demo auth token development runs with (src/config/load.ts), which the webhooks below sign with. */
const DEV_AUTH_TOKEN = 'dev-twilio-auth-token-not-a-secret';

/**
 * `src/main.ts` in a child process, as `npm start` runs it, with only the given settings — on the
 * fixture copy of the default flow, so a reworded shipped prompt breaks no test of the process.
 */
export function startAppProcess(env: Record<string, string>) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', FLOWS_DIR: FIXTURE_FLOWS_DIR, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  return {
    child,
    exited,
    get exitCode() {
      return exitCode;
    },
    output: () => ({ stdout, stderr, all: stdout + stderr }),
    /** Every line of both streams. */
    lines: () => (stdout + stderr).split('\n').filter(Boolean),
    stop: async () => {
      if (exitCode === undefined) child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTP request over node:http (so a reset shows as its own error code, not "fetch failed"). */
export function send(
  url: string,
  options: { method?: string; body?: string; headers?: Record<string, string>; agent?: Agent } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, ...(options.agent ? { agent: options.agent } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A webhook signed like Twilio with the development auth token, for `publicBaseUrl` + path. */
export function signedWebhook(publicBaseUrl: string, path: string, params: Record<string, string>) {
  const signature = twilio.getExpectedTwilioSignature(DEV_AUTH_TOKEN, publicBaseUrl + path, params);
  const body = new URLSearchParams(params).toString();
  return {
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)), 'x-twilio-signature': signature },
  };
}
