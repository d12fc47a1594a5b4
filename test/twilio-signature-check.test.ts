import fc from 'fast-check';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { validTwilioSignature } from '../src/telephony/twilio/signature-check.js';

const TOKEN = 'test-auth-token-0123456789';

// A URL in two spellings the SDK may tell apart, and the request either as signed or re-spelled:
// default ports, user info, IPv6, characters the WHATWG parser or the legacy query-string encoder
// rewrite, repeated and empty queries. Sometimes the request is for a different URL altogether.
const HOSTS = [['ivr.bank.test', 'ivr.bank.test:443'], ['user@ivr.bank.test', 'user@ivr.bank.test:80'], ['[::1]', '[::1]:443'], ['ivr.bank.test:8443', 'ivr.bank.test:8443']];
const ROUTES = [
  ['/twilio/voice', '/twilio/voice'],
  ['/twilio/step?t=1', '/twilio/step?t=1'],
  ['/twilio/v?cb=a:b/c', '/twilio/v?cb=a%3Ab%2Fc'],
  ["/twilio/v?s=a'b", '/twilio/v?s=a%27b'],
  ['/a b/twilio/v', '/a%20b/twilio/v'],
  ['/twilio/v?a=1&a=2', '/twilio/v?a=1&a=2'],
  ['/twilio/v?', '/twilio/v'],
  ['/t?q=%zz', '/t?q=%25zz'],
];
const spelled = fc.record({
  scheme: fc.constantFrom('https://', 'http://', 'HTTPS://'),
  host: fc.nat(HOSTS.length - 1),
  prefix: fc.constantFrom('', '/ivr'),
  route: fc.nat(ROUTES.length - 1),
});
const write = (u: { scheme: string; host: number; prefix: string; route: number }, form: { host: number; route: number }) =>
  u.scheme + (HOSTS[u.host]?.[form.host] ?? '') + u.prefix + (ROUTES[u.route]?.[form.route] ?? '');
const pair = fc
  .tuple(spelled, spelled, fc.nat(1), fc.nat(1), fc.nat(1), fc.nat(1), fc.nat(3))
  .map(([u, other, sh, sr, rh, rr, pick]) => ({
    signedFor: write(u, { host: sh, route: sr }),
    received: pick === 0 ? write(other, { host: rh, route: rr }) : write(u, { host: rh, route: rr }),
  }));
const params = fc.dictionary(fc.constantFrom('CallSid', 'Digits', 'From', 'A', 'b', 'ü'), fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })));

const verdict = (check: () => boolean): boolean | 'throws' => {
  try {
    return check();
  } catch {
    return 'throws';
  }
};

describe('the webhook signature check', () => {
  it('when any request is checked, signed for the same URL, another spelling of it, another URL or forged, then the verdict is twilio.validateRequest\'s', () => {
    fc.assert(
      fc.property(pair, params, fc.boolean(), ({ signedFor, received }, p, forged) => {
        const genuine = twilio.getExpectedTwilioSignature(TOKEN, signedFor, p);
        const signature = forged ? (genuine.startsWith('A') ? 'B' : 'A') + genuine.slice(1) : genuine;
        const sdk = verdict(() => twilio.validateRequest(TOKEN, signature, received, p));
        expect(verdict(() => validTwilioSignature(TOKEN, signature, received, p))).toBe(sdk);
      }),
      { numRuns: 3000 },
    );
  });

  it('when a webhook is signed for the URL without its default port, then the URL with the port verifies too (and the reverse)', () => {
    const p = { CallSid: 'CA' + '1'.repeat(32), Digits: '1' };
    const signed = twilio.getExpectedTwilioSignature(TOKEN, 'https://ivr.bank.test/ivr/twilio/step?t=2', p);
    expect(validTwilioSignature(TOKEN, signed, 'https://ivr.bank.test:443/ivr/twilio/step?t=2', p)).toBe(true);
    const signedWithPort = twilio.getExpectedTwilioSignature(TOKEN, 'https://ivr.bank.test:443/ivr/twilio/step?t=2', p);
    expect(validTwilioSignature(TOKEN, signedWithPort, 'https://ivr.bank.test/ivr/twilio/step?t=2', p)).toBe(true);
  });

  it('when the signature is missing, made with another token or over other parameters, then it is refused', () => {
    const p = { CallSid: 'CA' + '2'.repeat(32), Digits: '1' };
    const target = 'https://ivr.bank.test/ivr/twilio/step?t=2';
    expect(validTwilioSignature(TOKEN, undefined, target, p)).toBe(false);
    expect(validTwilioSignature(TOKEN, twilio.getExpectedTwilioSignature('another-token', target, p), target, p)).toBe(false);
    expect(validTwilioSignature(TOKEN, twilio.getExpectedTwilioSignature(TOKEN, target, { ...p, Digits: '2' }), target, p)).toBe(false);
  });
});
