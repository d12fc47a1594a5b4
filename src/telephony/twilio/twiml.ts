import type { Output, Wait } from '../../engine/types.js';

/**
 * TwiML as strings. The answers use five verbs; building them through the SDK's `VoiceResponse`
 * (an xmlbuilder document per answer) cost 15–18 µs of every webhook, a string costs about one.
 * The output is byte for byte what `VoiceResponse` writes for the same verbs — escaping included;
 * `test/twiml.property.test.ts` checks that against the SDK on generated answers.
 */

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/** Characters XML 1.0 cannot carry at all (xmlbuilder refuses them); a prompt loses them rather than the call failing. */
// eslint-disable-next-line no-control-regex
const ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Text without the characters XML cannot carry. */
export const xmlLegal = (s: string): string => s.replace(ILLEGAL, '');
const TEXT_SPECIAL = /[&<>\r]/;
const ATTR_SPECIAL = /[&<"\t\n\r]/;

/** xmlbuilder's textEscape. */
function text(s: string): string {
  const legal = xmlLegal(s);
  if (!TEXT_SPECIAL.test(legal)) return legal;
  return legal.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
}

/** xmlbuilder's attEscape (which the SDK uses for attribute values). */
function attr(value: string | number | boolean): string {
  const s = xmlLegal(String(value));
  if (!ATTR_SPECIAL.test(s)) return s;
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;');
}

function element(name: string, attrs: Record<string, string | number | boolean>, body: string): string {
  let open = `<${name}`;
  for (const key in attrs) open += ` ${key}="${attr(attrs[key] as string | number | boolean)}"`;
  return body === '' ? `${open}/>` : `${open}>${body}</${name}>`;
}

function speech(outputs: readonly Output[]): string {
  let out = '';
  for (const o of outputs) {
    // `say` with empty text still writes a (self-closed) element, as VoiceResponse does.
    out += o.kind === 'say' ? element('Say', { language: o.locale }, text(o.text)) : element('Pause', { length: o.seconds }, '');
  }
  return out;
}

const response = (body: string) => DECLARATION + element('Response', {}, body);

/** Queue name for a transfer; unverified callers are tagged so agents know to verify by other means. */
export function queueName(wait: Extract<Wait, { kind: 'transfer' }>): string {
  return wait.verified ? wait.queue : `${wait.queue}-unverified`;
}

/**
 * Engine outputs + how the turn ends → TwiML. Prompts go inside <Gather> so a caller who knows
 * the menu can press a key without waiting; `actionOnEmptyResult` makes silence come back to us
 * as an empty `Digits` (a no-input turn) instead of falling through.
 */
export function renderTwiml(outputs: readonly Output[], wait: Wait, actionUrl: string): string {
  switch (wait.kind) {
    case 'gather':
      return response(
        element(
          'Gather',
          { input: 'dtmf', numDigits: wait.numDigits, timeout: wait.timeoutSeconds, action: actionUrl, method: 'POST', actionOnEmptyResult: true },
          speech(outputs),
        ),
      );
    case 'transfer':
      return response(speech(outputs) + element('Enqueue', {}, text(queueName(wait))));
    case 'hangup':
      return response(speech(outputs) + element('Hangup', {}, ''));
  }
}

/** Safe TwiML for when something failed: an apology and the agent queue, tagged unverified. */
export function failClosedTwiml(say: string, locale: string, queue: string): string {
  return response(element('Say', { language: locale }, text(say)) + element('Enqueue', {}, text(`${queue}-unverified`)));
}

export function emptyTwiml(): string {
  return response('');
}

/**
 * Sends the call to fetch a fresh answer: after a pause when a duplicate arrives while the first is
 * still being answered, at once (`pauseSeconds` 0) when a stale webhook is pointed at the current turn.
 */
export function redirectTwiml(url: string, pauseSeconds = 1): string {
  const pause = pauseSeconds > 0 ? element('Pause', { length: pauseSeconds }, '') : '';
  return response(pause + element('Redirect', { method: 'POST' }, text(url)));
}
