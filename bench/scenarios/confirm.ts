import { performance } from 'node:perf_hooks';
import { enrollAuthenticator, type Authenticator } from '../lib/authenticator.js';
import type { Bench } from '../lib/context.js';
import { httpClient, inParallel, type HttpClient } from '../lib/http.js';
import { Samples, summarize, type Summary } from '../lib/stats.js';
import { callParams, gatherPath, newCallSid, pressed, spokenCode } from '../lib/webhook.js';

/** The seeds' pattern: the IVR looks at the session every 5 seconds instead of being redirected. */
export const POLL_INTERVAL_MS = 5000;

export interface ConfirmRun {
  inFlight: number;
  /** Confirmation POST sent → calls.update received by the Twilio stand-in. */
  toRedirectMs: Summary;
  /** Confirmation POST sent → its 200 answer read (the app answers after the redirect is accepted). */
  answerMs: Summary;
  errors: number;
  /** Redis round trips (and commands) the app made per confirmation, the redirect's audit write included. */
  roundTrips: number;
  commands: number;
}

export interface ConfirmFigures {
  runs: ConfirmRun[];
  /** Time-to-route of the 5-second poll, computed from this run's own confirmations (see `pollPattern`). */
  poll: Summary;
}

interface WaitingCall {
  sid: string;
  did: string;
}

/** Calls that dialed in and pressed 1: verification is open and the caller heard the code. */
async function callsWaitingForConfirmation(b: Bench, http: HttpClient, n: number): Promise<WaitingCall[]> {
  return inParallel(Array.from({ length: n }, () => newCallSid()), 16, async (sid) => {
    const dial = b.signer.sign('/twilio/voice', callParams(b.signer.accountSid, sid, { CallStatus: 'ringing' }));
    const menu = await http.post(dial.path, dial.body, dial.headers);
    const path = gatherPath(menu.body, b.publicBaseUrl);
    if (!path) throw new Error(`confirm setup: dial answered ${menu.status}: ${menu.body.slice(0, 300)}`);
    const press = b.signer.sign(path, callParams(b.signer.accountSid, sid, pressed('1')));
    const did = spokenCode((await http.post(press.path, press.body, press.headers)).body);
    if (!did) throw new Error('confirm setup: no code was spoken');
    return { sid, did };
  });
}

/**
 * Phones of different customers, used in turn: one customer never has several confirmations in
 * flight (no person types codes into one phone for 50 calls at once), and the wrong-code limit
 * (DESIGN A4: at most 10 points reserved per device and per customer) would rightly refuse them.
 */
const PHONES = 64;

async function measure(b: Bench, phones: Authenticator[], calls: WaitingCall[], inFlight: number): Promise<{ run: ConfirmRun; answers: Float64Array }> {
  const http = httpClient(b.origin, inFlight);
  const toRedirect = new Samples();
  const answer = new Samples();
  let errors = 0;
  const before = await b.app.ask<{ commands: number; roundTrips: number }>('counts');
  let next = 0;
  await inParallel(calls, inFlight, async (call) => {
    const device = phones[next++ % phones.length];
    if (!device) throw new Error('confirm: no phone enrolled');
    const jws = await device.sign(call.did);
    const redirected = b.twilio.redirectOf(call.sid).catch(() => NaN);
    const sent = performance.now();
    const res = await http.post('/authenticator/v1/confirmations', jws, { 'content-type': 'application/jose' });
    if (res.status !== 200) b.twilio.forget(call.sid);
    const at = await redirected;
    if (res.status !== 200 || Number.isNaN(at)) {
      if (errors++ === 0) console.log(`  confirmation answered ${res.status}${res.status === 200 ? ' but no redirect arrived' : `: ${res.body.slice(0, 120)}`}`);
      return;
    }
    toRedirect.push(at - sent);
    answer.push(res.ms);
  });
  http.close();
  const after = await b.app.ask<{ commands: number; roundTrips: number }>('counts');
  const n = Math.max(1, calls.length);
  const run: ConfirmRun = {
    inFlight,
    toRedirectMs: toRedirect.summary(),
    answerMs: answer.summary(),
    errors,
    roundTrips: (after.roundTrips - before.roundTrips) / n,
    commands: (after.commands - before.commands) / n,
  };
  return { run, answers: answer.values() };
}

/**
 * The poll pattern's time-to-route for the same confirmations: the session is confirmed when the
 * confirmation is answered, then the caller waits for the next poll, which lands uniformly within
 * the 5 s interval (stratified here, so the mean is exact), and that poll's webhook is answered.
 */
export function pollPattern(confirmAnswerMs: ArrayLike<number>, pollWebhookMs: number): Summary {
  const n = confirmAnswerMs.length;
  return summarize(Array.from(confirmAnswerMs, (ms, i) => ms + ((i + 0.5) / n) * POLL_INTERVAL_MS + pollWebhookMs));
}

/** Confirmation → redirect, sequential and with several confirmations in flight. */
export async function confirmToRedirect(b: Bench, sizes: { inFlight: number; samples: number }[], pollWebhookMs: number): Promise<ConfirmFigures> {
  await b.redis.flushall();
  const http = httpClient(b.origin, 16);
  const phones = await inParallel(Array.from({ length: PHONES }, (_, i) => `bench_cust_${i}`), 8, (customerId) => enrollAuthenticator(http, b.adminKey, b.publicBaseUrl, customerId));
  // A few confirmations first, so the verifier, the Twilio SDK and the stand-in's socket are warm.
  await measure(b, phones, await callsWaitingForConfirmation(b, http, 50), 1);
  const runs: ConfirmRun[] = [];
  let sequentialAnswers: ArrayLike<number> = [];
  for (const size of sizes) {
    // Prepared per run: DIDs live 90 s, so each run gets fresh calls just before it.
    const calls = await callsWaitingForConfirmation(b, http, size.samples);
    const { run, answers } = await measure(b, phones, calls, size.inFlight);
    runs.push(run);
    if (size.inFlight === 1) sequentialAnswers = answers;
  }
  http.close();
  return { runs, poll: pollPattern(sequentialAnswers, pollWebhookMs) };
}
