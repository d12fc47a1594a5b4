import { Agent, request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../scripts/lib/redis-server.js';
import { send, signedWebhook, startAppProcess, type Answer } from './support/app-process.js';
import { eventually } from './support/eventually.js';
import { newCallSid } from './support/app.js';
import { parseTwiml } from './support/twiml.js';

const DRAIN_SECONDS = 3;

describe('when the app gets SIGTERM during a burst of webhooks (DESIGN A12)', { timeout: 60_000 }, () => {
  let app: ReturnType<typeof startAppProcess> | undefined;
  afterEach(async () => {
    await app?.stop();
  });

  it('then /readyz is 503 at once, every webhook is answered with no connection reset, a request in flight when the listener closes finishes, and it exits 0 within drain + 10 s', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const publicBaseUrl = `http://localhost:${port}`;
    app = startAppProcess({ PORT: String(port), HOST: '127.0.0.1', SHUTDOWN_DRAIN_SECONDS: String(DRAIN_SECONDS), LOG_LEVEL: 'info' });
    const running = app;
    await eventually(() => expect(running.output().stdout).toMatch(/Vaultline IVR is running/), 30_000, 100);

    // Twilio's side: keep-alive connections reused across webhooks, as its HTTP client does.
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const answers: { answer: Answer; inDrain: boolean }[] = [];
    const failures: string[] = [];
    let drainSeenAt = Number.POSITIVE_INFINITY;
    let stopAt = Number.POSITIVE_INFINITY;
    const webhook = () => {
      const hook = signedWebhook(publicBaseUrl, '/twilio/voice', { CallSid: newCallSid(), From: '+14155550101', To: '+18005550199', CallStatus: 'ringing' });
      return send(`${base}/twilio/voice`, { method: 'POST', agent, ...hook });
    };
    const worker = async () => {
      while (Date.now() < stopAt) {
        const sentAt = Date.now();
        try {
          answers.push({ answer: await webhook(), inDrain: sentAt > drainSeenAt });
        } catch (err) {
          failures.push((err as NodeJS.ErrnoException).code ?? String(err));
        }
      }
    };
    const burst = Promise.all(Array.from({ length: 8 }, worker));
    await eventually(() => expect(answers.length).toBeGreaterThan(20), 10_000);

    running.child.kill('SIGTERM');
    const sigtermAt = Date.now();
    // The burst goes on through the drain, and stops just before the listener closes.
    stopAt = sigtermAt + DRAIN_SECONDS * 1000 - 300;
    await eventually(async () => expect((await send(`${base}/readyz`)).status).toBe(503), 2000, 20);
    drainSeenAt = Date.now();
    const readyzLatency = drainSeenAt - sigtermAt;

    // A request whose body is still arriving when the listener closes.
    const slow = new Promise<Answer>((resolve, reject) => {
      const hook = signedWebhook(publicBaseUrl, '/twilio/voice', { CallSid: newCallSid(), From: '+14155550101', To: '+18005550199', CallStatus: 'ringing' });
      const req = httpRequest(`${base}/twilio/voice`, { method: 'POST', headers: hook.headers }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      });
      req.on('error', reject);
      const half = Math.floor(hook.body.length / 2);
      req.write(hook.body.slice(0, half));
      setTimeout(() => req.end(hook.body.slice(half)), DRAIN_SECONDS * 1000 + 500);
    });

    await burst;
    const slowAnswer = await slow;
    const code = await running.exited;
    const exitedAfter = Date.now() - sigtermAt;
    agent.destroy();

    expect(failures).toEqual([]);
    // "At once", on a loaded 2-core CI machine with the burst in front of it in the queue.
    expect(readyzLatency).toBeLessThan(2000);
    const during = answers.filter((a) => a.inDrain);
    expect(during.length).toBeGreaterThan(0);
    for (const { answer } of answers) {
      expect(answer.status).toBe(200);
      expect(parseTwiml(answer.body).gather).toBeDefined();
    }
    // Answers during the drain close their connection, so no client sends on one we are closing.
    expect(during.every((a) => a.answer.headers.connection === 'close')).toBe(true);
    expect(slowAnswer.status).toBe(200);
    expect(parseTwiml(slowAnswer.body).gather).toBeDefined();
    expect(running.lines().some((l) => l.includes('listener closed'))).toBe(true);
    expect(code).toBe(0);
    expect(exitedAfter).toBeLessThan((DRAIN_SECONDS + 10) * 1000);
  });
});
