import type { Verb } from './twiml.js';
import type { EndReason, Listening, Timers, TranscriptBody } from './types.js';

/** What the player hands back to its call: the line, and the moves that leave the document. */
export interface PlayerHooks {
  timers: Timers;
  push(body: TranscriptBody): void;
  /** A <Gather> is open and listens for keys. */
  listening(): void;
  /** A <Redirect>: fetch that document (relative to the current one) and play it. */
  redirect(url: string, method: string): Promise<void>;
  /** A Gather's answer, posted to its action (undefined = the current document). */
  answer(action: string | undefined, method: string, digits: string): void;
  end(reason: EndReason): Promise<void>;
}

/**
 * Plays TwiML verb by verb for one call and collects keys at a <Gather>. Everything played belongs
 * to a generation; `interrupt()` (a new document, a hang-up) starts the next one, so verbs still
 * in flight for the old document are dropped.
 */
export function createPlayer(h: PlayerHooks) {
  let generation = 0;
  let gather: { verb: Extract<Verb, { kind: 'gather' }>; rest: Verb[]; gen: number; digits: string } | null = null;
  let timer: { fire(): void; cancel(): void } | null = null;

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
    const stop = h.timers.start(ms, t.fire);
    timer = t;
  }
  function stopWaiting() {
    gather = null;
    const t = timer;
    timer = null;
    t?.cancel();
  }

  function speak(v: Verb) {
    if (v.kind === 'say') for (let i = 0; i < Math.max(1, v.loop); i++) h.push({ kind: 'say', text: v.text, ...(v.language ? { language: v.language } : {}) });
    else if (v.kind === 'play') h.push({ kind: 'play', url: v.url });
    else if (v.kind === 'pause') h.push({ kind: 'pause', seconds: v.seconds });
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
          h.push({ kind: 'listening', ...(v.numDigits ? { numDigits: v.numDigits } : {}), timeoutSeconds: v.timeoutSeconds, finishOnKey: v.finishOnKey });
          arm(v.timeoutSeconds * 1000, onGatherTimeout);
          h.listening();
          return;
        case 'redirect':
          return h.redirect(v.url, v.method);
        case 'hangup':
          return void h.end('ivr');
        case 'reject':
          return void h.end('rejected');
        case 'transfer':
          // The simulator has no agents: a transfer leaves the IVR, which is where the call ends for us.
          h.push({ kind: 'transfer', via: v.via, to: v.to });
          return void h.end('transferred');
        case 'unsupported':
          h.push({ kind: 'error', text: `<${v.name}> is not simulated; skipped` });
          break;
      }
    }
    if (gen === generation) void h.end('end-of-twiml');
  }

  function submit(digits: string) {
    const g = gather;
    if (!g) return;
    h.answer(g.verb.action, g.verb.method, digits);
  }

  function onGatherTimeout() {
    const g = gather;
    if (!g) return;
    if (g.digits) return submit(g.digits);
    h.push({ kind: 'silence' });
    if (g.verb.actionOnEmptyResult) return submit('');
    // Without actionOnEmptyResult Twilio moves on to the verb after <Gather>.
    gather = null;
    void play(g.rest, g.gen);
  }

  return {
    play,
    /** Stops what plays or waits (a Gather, a Pause); returns the generation of what comes next. */
    interrupt(): number {
      const gen = ++generation;
      stopWaiting();
      return gen;
    },
    isCurrent: (gen: number): boolean => gen === generation,
    /** The open <Gather>'s terms, or null. */
    get listening(): Listening | null {
      if (!gather) return null;
      const v = gather.verb;
      return { ...(v.numDigits ? { numDigits: v.numDigits } : {}), timeoutSeconds: v.timeoutSeconds, finishOnKey: v.finishOnKey };
    },
    /** Keys already checked for the keypad; whether the open Gather heard them. */
    press(keys: string): boolean {
      if (!gather) {
        h.push({ kind: 'keys', digits: keys, ignored: true });
        return false;
      }
      h.push({ kind: 'keys', digits: keys });
      const g = gather;
      for (const key of keys) {
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
    /** Fires the pending timer now; false when none is pending. */
    timeoutNow(): boolean {
      if (!timer) return false;
      timer.fire();
      return true;
    },
  };
}
