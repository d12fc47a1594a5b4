import { createPlayer } from './player.js';
import { createTranscript } from './transcript.js';
import { parseTwimlVerbs, TwimlError, type Verb } from './twiml.js';
import type { EndReason, Listening, SimCallStatus, Timers, TranscriptEntry, WebhookSender } from './types.js';

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

export type SimCall = ReturnType<typeof createSimCall>;

/**
 * One live call: fetches TwiML from the app, plays it verb by verb, collects keys at a <Gather>,
 * follows redirects (from TwiML or from the REST API) and reports the end with a status callback.
 * A redirect or hang-up bumps the player's generation, so an answer still in flight for the old document is dropped.
 */
export function createSimCall(o: SimCallOptions) {
  const line = createTranscript(o.now);
  const { events, push } = line;
  const startedAt = o.now();
  let status: SimCallStatus = 'ringing';
  let hops = 0;
  let documentUrl = o.voiceUrl;
  let finished: Promise<void> | null = null;

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

  const player = createPlayer({
    timers: o.timers,
    push,
    listening: () => events.emit('listening'),
    redirect(url, method) {
      push({ kind: 'redirect', by: 'twiml', path: o.webhooks.pathOf(resolve(url)) });
      return navigate(resolve(url), method);
    },
    answer(action, method, digits) {
      hops = 0;
      void navigate(resolve(action ?? documentUrl), method, { Digits: digits });
    },
    end,
  });

  function fail(text: string) {
    push({ kind: 'error', text });
    void end('error');
  }

  /** Fetches a document and plays it; never throws (a failure ends the call, as on Twilio). */
  async function navigate(url: string, method: string, extra: Record<string, string> = {}): Promise<void> {
    const gen = player.interrupt();
    if (++hops > MAX_HOPS) return fail(`${MAX_HOPS} documents in a row without caller input: the app is looping`);
    let res: Awaited<ReturnType<WebhookSender['send']>>;
    try {
      res = await o.webhooks.send(url, method, params(extra));
    } catch (err) {
      if (player.isCurrent(gen)) fail(`no answer from ${o.webhooks.pathOf(url)}: ${err instanceof Error ? err.message : 'network error'}`);
      return;
    }
    if (!player.isCurrent(gen)) return;
    if (status === 'ringing') status = 'in-progress';
    if (res.status !== 200 || !/xml/i.test(res.contentType)) return fail(`the app answered ${res.status} (${res.contentType || 'no type'}) at ${o.webhooks.pathOf(url)}`);
    let verbs: Verb[];
    try {
      verbs = parseTwimlVerbs(res.body);
    } catch (err) {
      return fail(`invalid TwiML from ${o.webhooks.pathOf(url)}: ${err instanceof TwimlError ? err.message : 'unreadable'}`);
    }
    documentUrl = url;
    await player.play(verbs, gen);
  }

  function end(reason: EndReason): Promise<void> {
    if (finished) return finished;
    status = 'completed';
    player.interrupt();
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
      return line.entries;
    },
    /** What the open <Gather> listens for, or null when nothing is listening. */
    get listening(): Listening | null {
      return player.listening;
    },
    /** Places the call: fetches the voice URL. */
    start(): void {
      void navigate(o.voiceUrl, 'POST');
    },
    /** Keypad presses. Keys pressed while nothing listens are lost, as on a real line; returns whether any was heard. */
    press(keys: string): boolean {
      const valid = keys.replace(/[^0-9*#]/g, '');
      if (!valid || finished) return false;
      return player.press(valid);
    },
    /** Fires the pending timer now (a Gather's timeout, a Pause): "stay silent" without waiting. */
    timeoutNow: (): boolean => player.timeoutNow(),
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
      const gen = player.interrupt();
      let verbs: Verb[];
      try {
        verbs = parseTwimlVerbs(xml);
      } catch (err) {
        fail(`invalid TwiML from the REST API: ${err instanceof Error ? err.message : 'unreadable'}`);
        return true;
      }
      void player.play(verbs, gen);
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
      return line.waitFor(match, timeoutMs, finished);
    },
  };
}
