import { parseXml, textOf, XmlError, type XmlElement } from './xml.js';

/** The TwiML verbs the simulator plays, in its own words (what a caller would hear or do). */
export type Verb =
  | { kind: 'say'; text: string; language?: string; loop: number }
  | { kind: 'play'; url: string; loop: number }
  | { kind: 'pause'; seconds: number }
  | {
      kind: 'gather';
      /** Absolute or relative; undefined = the current document's URL (Twilio's default). */
      action?: string;
      method: string;
      numDigits?: number;
      timeoutSeconds: number;
      finishOnKey: string;
      actionOnEmptyResult: boolean;
      prompts: Verb[];
    }
  | { kind: 'redirect'; url: string; method: string }
  | { kind: 'hangup' }
  | { kind: 'reject' }
  | { kind: 'transfer'; via: 'Enqueue' | 'Dial'; to: string }
  | { kind: 'unsupported'; name: string };

export class TwimlError extends Error {
  override readonly name = 'TwimlError';
}

/** Verbs that may sit inside <Gather> (Twilio's rule); anything else there is ignored, as Twilio does. */
const GATHER_CHILDREN = new Set(['say', 'play', 'pause']);

/** TwiML document → the list of verbs under <Response>. */
export function parseTwimlVerbs(xml: string): Verb[] {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (err) {
    throw new TwimlError(err instanceof XmlError ? `not valid XML: ${err.message}` : 'not valid XML', { cause: err });
  }
  if (root.name !== 'Response') throw new TwimlError(`the root element is <${root.name}>, not <Response>`);
  return elements(root).map(toVerb);
}

const elements = (el: XmlElement): XmlElement[] => el.children.filter((c): c is XmlElement => typeof c !== 'string');
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

function int(value: string | undefined, fallback: number, min = 0, max = 3600): number {
  const n = value === undefined ? NaN : Number.parseInt(value, 10);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

function toVerb(el: XmlElement): Verb {
  const a = el.attrs;
  switch (el.name) {
    case 'Say':
      return { kind: 'say', text: squash(textOf(el)), ...(a.language ? { language: a.language } : {}), loop: int(a.loop, 1, 0, 100) };
    case 'Play':
      return { kind: 'play', url: squash(textOf(el)), loop: int(a.loop, 1, 0, 100) };
    case 'Pause':
      return { kind: 'pause', seconds: int(a.length, 1, 0, 600) };
    case 'Gather':
      return {
        kind: 'gather',
        ...(a.action ? { action: a.action } : {}),
        method: (a.method ?? 'POST').toUpperCase(),
        ...(a.numDigits ? { numDigits: int(a.numDigits, 1, 1, 64) } : {}),
        timeoutSeconds: int(a.timeout, 5, 1, 600),
        // finishOnKey="" turns the finishing key off; absent means '#'.
        finishOnKey: a.finishOnKey ?? '#',
        actionOnEmptyResult: a.actionOnEmptyResult === 'true',
        prompts: elements(el)
          .filter((c) => GATHER_CHILDREN.has(c.name.toLowerCase()))
          .map(toVerb),
      };
    case 'Redirect':
      return { kind: 'redirect', url: squash(textOf(el)), method: (a.method ?? 'POST').toUpperCase() };
    case 'Hangup':
      return { kind: 'hangup' };
    case 'Reject':
      return { kind: 'reject' };
    case 'Enqueue':
      return { kind: 'transfer', via: 'Enqueue', to: squash(textOf(el)) || (a.workflowSid ?? 'a queue') };
    case 'Dial': {
      // <Dial>+1555…</Dial> or <Dial><Number>…</Number></Dial> (Queue, Client, Sip alike).
      const target = squash(textOf(el));
      return { kind: 'transfer', via: 'Dial', to: target || 'a number' };
    }
    default:
      return { kind: 'unsupported', name: el.name };
  }
}
