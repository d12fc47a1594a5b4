import { EventEmitter } from 'node:events';
import type { TranscriptBody, TranscriptEntry } from './types.js';

const MAX_ENTRIES = 5000;

/**
 * One call's line as it happens: the entries in order, an 'entry' event for each, and a way to
 * wait for one. The call emits its own moments ('listening', 'ended', 'finished') on `events` too.
 */
export function createTranscript(now: () => number) {
  const events = new EventEmitter();
  const entries: TranscriptEntry[] = [];

  return {
    events,
    entries: entries as readonly TranscriptEntry[],
    push(body: TranscriptBody): void {
      const entry = { ...body, seq: entries.length + 1, at: new Date(now()).toISOString() } as TranscriptEntry;
      if (entries.length < MAX_ENTRIES) entries.push(entry);
      events.emit('entry', entry);
    },
    /** The first entry (already there or coming) that matches; rejects once `finished` settles first, or after `timeoutMs`. */
    waitFor(match: (e: TranscriptEntry) => boolean, timeoutMs: number, finished: Promise<void> | null): Promise<TranscriptEntry> {
      const seen = entries.find(match);
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
