/** The simulator's own words for a call: what happened on the line, and what it needs from outside. */

export type SimCallStatus = 'ringing' | 'in-progress' | 'completed';
export type EndReason = 'caller' | 'ivr' | 'transferred' | 'rejected' | 'end-of-twiml' | 'api' | 'error';

/** What happened on the line, in order: what a caller heard, pressed, and what the network did. */
export type TranscriptBody =
  | { kind: 'say'; text: string; language?: string }
  | { kind: 'play'; url: string }
  | { kind: 'pause'; seconds: number }
  | { kind: 'listening'; numDigits?: number; timeoutSeconds: number; finishOnKey: string }
  | { kind: 'keys'; digits: string; ignored?: true }
  | { kind: 'silence' }
  | { kind: 'redirect'; by: 'twiml' | 'api'; path: string }
  | { kind: 'transfer'; via: 'Enqueue' | 'Dial'; to: string }
  | { kind: 'ended'; reason: EndReason }
  | { kind: 'status-callback'; callStatus: string; httpStatus: number | null }
  | { kind: 'error'; text: string };
export type TranscriptEntry = TranscriptBody & { seq: number; at: string };

export interface Listening {
  numDigits?: number;
  timeoutSeconds: number;
  finishOnKey: string;
}

/** Signed webhook delivery to the app (the network knows the URLs and the auth token). */
export interface WebhookSender {
  send(url: string, method: string, params: Record<string, string>): Promise<{ status: number; contentType: string; body: string }>;
  /** The path shown in a transcript for an absolute URL. */
  pathOf(url: string): string;
}

/** The timers the simulator owns: real time in the console, a hand-driven one in tests. Returns a cancel function. */
export interface Timers {
  start(ms: number, fire: () => void): () => void;
}
export const realTimers: Timers = {
  start(ms, fire) {
    const t = setTimeout(fire, ms);
    // A caller thinking must not keep a finished process alive.
    t.unref();
    return () => clearTimeout(t);
  },
};
