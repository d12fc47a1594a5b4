import { randomBytes } from 'node:crypto';
import twilio from 'twilio';

/**
 * Webhooks as Twilio sends them: the full form Twilio posts for a Voice call (about 25 fields), signed
 * per request with X-Twilio-Signature over PUBLIC_BASE_URL + path + params. Every simulated call
 * has its own CallSid, so the app's retry dedup never answers from a stored copy.
 */
export interface SignedRequest {
  path: string;
  body: string;
  headers: Record<string, string>;
}

export interface Signer {
  accountSid: string;
  sign(path: string, params: Record<string, string>): SignedRequest;
  /** A request whose signature is wrong (a forger who does not hold the auth token). */
  forge(path: string, params: Record<string, string>): SignedRequest;
}

const FORM = 'application/x-www-form-urlencoded';

export function createSigner(opts: { authToken: string; accountSid: string; publicBaseUrl: string }): Signer {
  const build = (path: string, params: Record<string, string>, signature: string): SignedRequest => ({
    path,
    body: new URLSearchParams(params).toString(),
    headers: { 'content-type': FORM, 'x-twilio-signature': signature },
  });
  return {
    accountSid: opts.accountSid,
    sign: (path, params) => build(path, params, twilio.getExpectedTwilioSignature(opts.authToken, opts.publicBaseUrl + path, params)),
    // Same length and alphabet as a real signature (base64 of a SHA-1), so the check does its full work.
    forge: (path, params) => build(path, params, randomBytes(20).toString('base64')),
  };
}

const runTag = randomBytes(6).toString('hex');
let counter = 0;
/** A unique Twilio-shaped CallSid (CA + 32 hex) for each simulated call. */
export function newCallSid(): string {
  counter++;
  return `CA${runTag}${counter.toString(16).padStart(20, '0')}`;
}

/** The fields Twilio posts with every Voice webhook of an inbound call. */
export function callParams(accountSid: string, callSid: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AccountSid: accountSid,
    ApiVersion: '2010-04-01',
    CallSid: callSid,
    CallStatus: 'in-progress',
    Called: '+18005550199',
    CalledCity: '',
    CalledCountry: 'US',
    CalledState: 'CA',
    CalledZip: '',
    Caller: '+14155550101',
    CallerCity: 'SAN FRANCISCO',
    CallerCountry: 'US',
    CallerState: 'CA',
    CallerZip: '94103',
    Direction: 'inbound',
    From: '+14155550101',
    FromCity: 'SAN FRANCISCO',
    FromCountry: 'US',
    FromState: 'CA',
    FromZip: '94103',
    To: '+18005550199',
    ToCity: '',
    ToCountry: 'US',
    ToState: 'CA',
    ToZip: '',
    ...extra,
  };
}

/** The key-press fields a <Gather> adds. */
export const pressed = (digits: string) => ({ Digits: digits, FinishedOnKey: '', msg: 'Gather End' });

/** The path of the first <Gather action> in a TwiML answer, relative to PUBLIC_BASE_URL. */
export function gatherPath(twiml: string, publicBaseUrl: string): string | undefined {
  const m = /<Gather[^>]*\saction="([^"]+)"/.exec(twiml);
  if (!m?.[1]) return undefined;
  const url = m[1].replace(/&amp;/g, '&');
  return url.startsWith(publicBaseUrl) ? url.slice(publicBaseUrl.length) : undefined;
}

/** The DID as the caller hears it ("Your code is 4 8 2 9 1 3."). */
export function spokenCode(twiml: string): string | undefined {
  const m = /code is ([\d,\s]+)/i.exec(twiml);
  return m?.[1]?.replace(/\D/g, '') || undefined;
}
