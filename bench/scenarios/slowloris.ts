import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Bench } from '../lib/context.js';
import { httpClient } from '../lib/http.js';
import { Samples, type Summary } from '../lib/stats.js';
import { callParams, newCallSid } from '../lib/webhook.js';

export interface SlowlorisFigures {
  /** A genuine incoming-call webhook, one at a time, nobody else connected. */
  quietMs: Summary;
  /** The same while `connections` slow clients hold sockets open, dripping header bytes. */
  underMs: Summary;
  /** underMs.p50 / quietMs.p50: the issue asks at most 2. */
  ratio: number;
  connections: number;
  /** Slow sockets the server closed (headersTimeout 10 s), each replaced at once by the attacker. */
  cutByServer: number;
  /** How long the attack lasted. */
  seconds: number;
}

/**
 * Slowloris (DESIGN A12, issue 12 item 3): `connections` sockets each send the start of a request and
 * then one header line every second, never finishing; a socket the server closes is opened again.
 * Meanwhile a genuine call's turn is timed like in the quiet run. The attack lasts past the 10 s
 * headers timeout, so the figures include the server cutting (and the attacker refilling) sockets.
 */
export async function slowloris(b: Bench, opts: { connections: number; samples: number; minSeconds: number }): Promise<SlowlorisFigures> {
  const { hostname, port } = new URL(b.origin);
  const http = httpClient(b.origin, 1);
  const turn = async (into: Samples) => {
    const req = b.signer.sign('/twilio/voice', callParams(b.signer.accountSid, newCallSid(), { CallStatus: 'ringing' }));
    const answer = await http.post(req.path, req.body, req.headers);
    if (answer.status !== 200) throw new Error(`slowloris: a genuine webhook answered ${answer.status}`);
    into.push(answer.ms);
  };
  // Paced like calls, not a tight loop, the same way in both runs: the attack is what differs.
  const pause = () => new Promise((r) => setTimeout(r, 5));
  const quiet = new Samples();
  for (let i = 0; i < 50; i++) await turn(new Samples()); // warm the path
  for (let i = 0; i < opts.samples; i++) {
    await turn(quiet);
    await pause();
  }

  let attacking = true;
  let cutByServer = 0;
  const sockets = new Set<Socket>();
  const open = () => {
    const s = connect(Number(port), hostname);
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('connect', () => s.write('POST /twilio/voice HTTP/1.1\r\nHost: ivr.bench.test\r\nContent-Type: application/x-www-form-urlencoded\r\n'));
    s.on('close', () => {
      sockets.delete(s);
      if (!attacking) return;
      cutByServer++;
      open();
    });
  };
  for (let i = 0; i < opts.connections; i++) open();
  const drip = setInterval(() => {
    for (const s of sockets) if (s.writable) s.write(`X-Slow-${Math.floor(Math.random() * 1e6)}: a\r\n`);
  }, 1000);
  // Let every slow socket connect and start its request before timing anything.
  await new Promise((r) => setTimeout(r, 500));

  const started = performance.now();
  const under = new Samples();
  while (under.count < opts.samples || performance.now() - started < opts.minSeconds * 1000) {
    await turn(under);
    await pause();
  }
  const seconds = (performance.now() - started) / 1000;
  attacking = false;
  clearInterval(drip);
  for (const s of sockets) s.destroy();
  http.close();

  const quietMs = quiet.summary();
  const underMs = under.summary();
  return { quietMs, underMs, ratio: underMs.p50 / quietMs.p50, connections: opts.connections, cutByServer, seconds };
}
