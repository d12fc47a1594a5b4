import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';

/**
 * Twilio's webhook body (DESIGN A3): `application/x-www-form-urlencoded`, UTF-8, a few dozen fields
 * of a few KB in all. Anything else is refused here, before the signature is checked and before
 * anything with an effect runs: too large is 413, not such a form is 400. Neither reaches an error
 * handler (no `fail_closed`, no TwiML); `refuse` answers and writes at most a rate-limited line.
 */
export interface TwilioFormLimits {
  /** Twilio's voice webhooks are 1–3 KB; a speech result adds a few hundred bytes. */
  maxBytes: number;
  /** A voice webhook carries 20–40 fields. */
  maxFields: number;
}

export const TWILIO_FORM_LIMITS: TwilioFormLimits = { maxBytes: 16 * 1024, maxFields: 100 };

/** Each field's values in order; a repeated field has several (the signature covers them all). */
export type TwilioForm = Map<string, string[]>;

/** Answers a refused webhook (no TwiML, no error handler). */
export type Refuse = (req: Request, res: Response, status: 400 | 403 | 413, reason: string) => void;

const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
const PERCENT_ESCAPES = /%(?![0-9A-Fa-f]{2})/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The form's fields, or why it is not a Twilio form. Strict on purpose: Twilio always encodes properly. */
export function parseTwilioForm(body: Buffer, maxFields: number): TwilioForm | null {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return null;
  }
  const form: TwilioForm = new Map();
  if (text === '') return form;
  const pairs = text.split('&');
  if (pairs.length > maxFields) return null;
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return null;
    const name = decode(pair.slice(0, eq));
    const value = decode(pair.slice(eq + 1));
    if (name === null || value === null) return null;
    const values = form.get(name);
    if (values) values.push(value);
    else form.set(name, [value]);
  }
  return form;
}

function decode(s: string): string | null {
  if (PERCENT_ESCAPES.test(s)) return null;
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    // A %-sequence that is not UTF-8.
    return null;
  }
}

/** The form as `validTwilioSignature` takes it: a repeated field as the list of its values. */
export function signedParams(form: TwilioForm): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, values] of form) out[name] = values.length === 1 ? (values[0] as string) : values;
  return out;
}

/**
 * The form as the webhooks read it: one string per field. A field Twilio sent twice (or a proxy
 * repeated) is input, not an error: its first value counts. No prototype, so `__proto__` or
 * `constructor` are plain fields.
 */
export function inputParams(form: TwilioForm): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, values] of form) out[name] = values[0] as string;
  return out;
}

/**
 * Reads and parses the body into `res.locals.twilioForm`. Body-parser reads the bytes (it stops at
 * `maxBytes`, also for a chunked body, and refuses compressed ones); its errors are answered here.
 */
export function twilioFormBody(limits: TwilioFormLimits, refuse: Refuse): (RequestHandler | ErrorRequestHandler)[] {
  const read = express.raw({ type: () => true, limit: limits.maxBytes, inflate: false });
  const readErrors: ErrorRequestHandler = (err, req, res, _next) => {
    const status = (err as { status?: unknown } | null)?.status;
    refuse(req, res, status === 413 ? 413 : 400, status === 413 ? 'too_large' : 'unreadable');
  };
  const parse: RequestHandler = (req, res, next) => {
    if (!FORM_TYPE.test(req.headers['content-type'] ?? '')) return refuse(req, res, 400, 'not_a_form');
    const body: unknown = req.body;
    const form = parseTwilioForm(Buffer.isBuffer(body) ? body : Buffer.alloc(0), limits.maxFields);
    if (form === null) return refuse(req, res, 400, 'not_a_form');
    res.locals.twilioForm = form;
    next();
  };
  return [read, readErrors, parse];
}
