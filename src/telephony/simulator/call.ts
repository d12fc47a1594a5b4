import { EventEmitter } from 'node:events';
import { parseTwimlVerbs, TwimlError, type Verb } from './twiml.js';
import type { EndReason, Listening, SimCallStatus, Timers, TranscriptBody, TranscriptEntry, WebhookSender } from './types.js';

export { realTimers } from './types.js';
export type { EndReason, Listening, SimCallStatus, Timers, TranscriptBody, TranscriptEntry, WebhookSender } from './types.js';

export interface SimCallOptions {
  callSid: string;
  accountSid: string;
  from: string;
  to: string;
  voiceUrl: string;
  statusCallbackUrl: string;
  webhooks: WebhookSender;
  timers: Timers;
  now: () => number;
}

/** Documents fetched one after another with no caller input in between; past it, the app is looping. */
const MAX_HOPS = 50;
const MAX_ENTRIES = 5000;

export type SimCall = ReturnType<typeof createSimCall>;

/**
 * One live call: fetches TwiML from the app, plays it verb by verb, collects keys at a <Gather>,
 * follows redirects (from TwiML or from the REST API) and reports the end with a status callback.
 * A redirect or hang-up bumps `generation`, so an answer still in flight for the old document is dropped.
 */
export function createSimCall(o: SimCallOptions) {
  const events = new EventEmitter();
  const transcript: TranscriptEntry[] = [];
  const startedAt = o.now();
  let status: SimCallStatus = 'ringing';
  let generation = 0;
  let hops = 0;
  let documentUrl = o.voiceUrl;
  let gather: { verb: Extract<Verb, { kind: 'gather' }>; rest: Verb[]; gen: number; digits: string } | null = null;
  let timer: { fire(): void; cancel(): void } | null = null;
  let finished: Promise<void> | null = null;

  const push = (body: TranscriptBody) => {
    const entry = { ...body, seq: transcript.length + 1, at: new Date(o.now()).toISOString() } as TranscriptEntry;
    if (transcript.length < MAX_ENTRIES) transcript.push(entry);
    events.emit('entry', entry);
  };
  const params = (extra: Record<string, string> = {}) => ({
    CallSid: o.callSid,
    AccountSid: o.accountSid,
    From: o.from,
    To: o.to,
    CallStatus: status,
    Direction: 'inbound',
    ApiVersion: '2010-04-01',
    ...extra,
  });
  const resolve = (url: string) => (/^https?:\/\//i.test(url) ? url : new URL(url, documentUrl).toString());

  /** One timer at a time (a Gather's timeout or a Pause); `onCancel` runs when a redirect or hang-up stops it. */
  function arm(ms: number, onFire: () => void, onCancel: () => void = () => undefined) {
    timer?.cancel();
    const t = {
      fire: () => {
        if (timer !== t) return;
        timer = null;
        stop();
        onFire();
      },
      cancel: () => {
        stop();
        onCancel();
      },
    };
    const stop = o.timers.start(ms, t.fire);
    timer = t;
  }
  function stopWaiting() {
    gather = null;
    const t = timer;
    timer = null;
    t?.cancel();
  }

  function fail(text: string) {
    push({ kind: 'error', text });
    void end('error');
  }

  /** Fetches a document and plays it; never throws (a failure ends the call, as on Twilio). */
  async function navigate(url: string, method: string, extra: Record<string, string> = {}): Promise<void> {
    const gen = ++generation;
    stopWaiting();
    if (++hops > MAX_HOPS) return fail(`${MAX_HOPS} documents in a row without caller input: the app is looping`);
    let res: Awaited<ReturnType<WebhookSender['send']>>;
    try {
      res = await o.webhooks.send(url, method, params(extra));
    } catch (err) {
      if (gen === generation) fail(`no answer from ${o.webhooks.pathOf(url)}: ${err instanceof Error ? err.message : 'network error'}`);
      return;
    }
    if (gen !== generation) return;
    if (status === 'ringing') status = 'in-progress';
    if (res.status !== 200 || !/xml/i.test(res.contentType)) return fail(`the app answered ${res.status} (${res.contentType || 'no type'}) at ${o.webhooks.pathOf(url)}`);
    let verbs: Verb[];
    try {
      verbs = parseTwimlVerbs(res.body);
    } catch (err) {
      return fail(`invalid TwiML from ${o.webhooks.pathOf(url)}: ${err instanceof TwimlError ? err.message : 'unreadable'}`);
    }
    documentUrl = url;
    await play(verbs, gen);
  }

  function speak(v: Verb) {
    if (v.kind === 'say') for (let i = 0; i < Math.max(1, v.loop); i++) push({ kind: 'say', text: v.text, ...(v.language ? { language: v.language } : {}) });
    else if (v.kind === 'play') push({ kind: 'play', url: v.url });
    else if (v.kind === 'pause') push({ kind: 'pause', seconds: v.seconds });
  }

  async function play(verbs: Verb[], gen: number): Promise<void> {
    for (let i = 0; i < verbs.length; i++) {
      const v = verbs[i] as Verb;
      if (gen !== generation) return;
      switch (v.kind) {
        case 'say':
        case 'play':
          speak(v);
          break;
        case 'pause':
          speak(v);
          // A redirect or hang-up during the pause ends it too; the loop then sees the new generation.
          await new Promise<void>((done) => arm(v.seconds * 1000, done, done));
          break;
        case 'gather':
          v.prompts.forEach(speak);
          gather = { verb: v, rest: verbs.slice(i + 1), gen, digits: '' };
          push({ kind: 'listening', ...(v.numDigits ? { numDigits: v.numDigits } : {}), timeoutSeconds: v.timeoutSeconds, finishOnKey: v.finishOnKey });
          arm(v.timeoutSeconds * 1000, onGatherTimeout);
          events.emit('listening');
          return;
        case 'redirect':
          push({ kind: 'redirect', by: 'twiml', path: o.webhooks.pathOf(resolve(v.url)) });
          return navigate(resolve(v.url), v.method);
        case 'hangup':
          return void end('ivr');
        case 'reject':
          return void end('rejected');
        case 'transfer':
          // The simulator has no agents: a transfer leaves the IVR, which is where the call ends for us.
          push({ kind: 'transfer', via: v.via, to: v.to });
          return void end('transferred');
        case 'unsupported':
          push({ kind: 'error', text: `<${v.name}> is not simulated; skipped` });
          break;
      }
    }
    if (gen === generation) void end('end-of-twiml');
  }

  function submit(digits: string) {
    const g = gather;
    if (!g) return;
    hops = 0;
    void navigate(resolve(g.verb.action ?? documentUrl), g.verb.method, { Digits: digits });
  }

  function onGatherTimeout() {
    const g = gather;
    if (!g) return;
    if (g.digits) return submit(g.digits);
    push({ kind: 'silence' });
    if (g.verb.actionOnEmptyResult) return submit('');
    // Without actionOnEmptyResult Twilio moves on to the verb after <Gather>.
    gather = null;
    void play(g.rest, g.gen);
  }

  function end(reason: EndReason): Promise<void> {
    if (finished) return finished;
    status = 'completed';
    generation++;
    stopWaiting();
    push({ kind: 'ended', reason });
    events.emit('ended', reason);
    const duration = String(Math.max(0, Math.round((o.now() - startedAt) / 1000)));
    finished = o.webhooks.send(o.statusCallbackUrl, 'POST', params({ CallStatus: 'completed', CallDuration: duration })).then(
      (res) => push({ kind: 'status-callback', callStatus: 'completed', httpStatus: res.status }),
      () => push({ kind: 'status-callback', callStatus: 'completed', httpStatus: null }),
    );
    void finished.then(() => events.emit('finished'));
    return finished;
  }

  return {
    callSid: o.callSid,
    from: o.from,
    to: o.to,
    events,
    get status(): SimCallStatus {
      return status;
    },
    get transcript(): readonly TranscriptEntry[] {
      return transcript;
    },
    /** What the open <Gather> listens for, or null when nothing is listening. */
    get listening(): Listening | null {
      if (!gather) return null;
      const v = gather.verb;
      return { ...(v.numDigits ? { numDigits: v.numDigits } : {}), timeoutSeconds: v.timeoutSeconds, finishOnKey: v.finishOnKey };
    },
    /** Places the call: fetches the voice URL. */
    start(): void {
      void navigate(o.voiceUrl, 'POST');
    },
    /** Keypad presses. Keys pressed while nothing listens are lost, as on a real line; returns whether any was heard. */
    press(keys: string): boolean {
      const valid = keys.replace(/[^0-9*#]/g, '');
      if (!valid || finished) return false;
      if (!gather) {
        push({ kind: 'keys', digits: valid, ignored: true });
        return false;
      }
      push({ kind: 'keys', digits: valid });
      const g = gather;
      for (const key of valid) {
        const finishes = g.verb.finishOnKey !== '' && g.verb.finishOnKey.includes(key);
        if (!finishes) g.digits += key;
        if (finishes || (g.verb.numDigits !== undefined && g.digits.length >= g.verb.numDigits)) {
          // Keys after the one that completes the Gather are lost, as on Twilio.
          submit(g.digits);
          return true;
        }
      }
      // Twilio's timeout counts from the last key pressed.
      arm(g.verb.timeoutSeconds * 1000, onGatherTimeout);
      return true;
    },
    /** Fires the pending timer now (a Gather's timeout, a Pause): "stay silent" without waiting. */
    timeoutNow(): boolean {
      if (!timer) return false;
      timer.fire();
      return true;
    },
    /** The REST API's calls.update with a Url: play the new document instead of the current one. */
    redirect(url: string, method = 'POST'): boolean {
      if (finished) return false;
      hops = 0;
      push({ kind: 'redirect', by: 'api', path: o.webhooks.pathOf(url) });
      void navigate(url, method.toUpperCase());
      return true;
    },
    /** The REST API's calls.update with inline Twiml. */
    playTwiml(xml: string): boolean {
      if (finished) return false;
      const gen = ++generation;
      stopWaiting();
      let verbs: Verb[];
      try {
        verbs = parseTwimlVerbs(xml);
      } catch (err) {
        fail(`invalid TwiML from the REST API: ${err instanceof Error ? err.message : 'unreadable'}`);
        return true;
      }
      void play(verbs, gen);
      return true;
    },
    /** The caller hangs up; resolves once the status callback was delivered (or failed). */
    hangUp: (): Promise<void> => end('caller'),
    /** The REST API's calls.update with Status=completed. */
    endByApi: (): Promise<void> => end('api'),
    /** Resolves once the call is over and its status callback was sent; null while live. */
    get finished(): Promise<void> | null {
      return finished;
    },
    /**
     * The first entry (already there or coming) that matches; rejects when the call finishes first
     * or after `timeoutMs`. For clients and tests that wait on the line rather than on a clock.
     */
    waitFor(match: (e: TranscriptEntry) => boolean, timeoutMs = 15_000): Promise<TranscriptEntry> {
      const seen = transcript.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((ok, ko) => {
        const cleanup = () => {
          clearTimeout(t);
          events.off('entry', onEntry);
          events.off('finished', onFinished);
        };
        const settle = (outcome: () => void) => {
          cleanup();
          outcome();
        };
        const onEntry = (e: TranscriptEntry) => {
          if (match(e)) settle(() => ok(e));
        };
        const onFinished = () => settle(() => ko(new Error('the call ended before the awaited moment')));
        const t = setTimeout(() => settle(() => ko(new Error(`nothing awaited happened within ${timeoutMs} ms`))), timeoutMs);
        events.on('entry', onEntry);
        if (finished) void finished.then(onFinished);
        else events.on('finished', onFinished);
      });
    },
  };
}
