import fc from 'fast-check';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import type { Output, Wait } from '../src/engine/types.js';
import { emptyTwiml, failClosedTwiml, queueName, redirectTwiml, renderTwiml, xmlLegal } from '../src/telephony/twilio/twiml.js';

const { VoiceResponse } = twilio.twiml;
type Say = InstanceType<typeof VoiceResponse>['say'];
type SayLanguage = NonNullable<Parameters<Say>[0] extends infer A ? (A extends { language?: infer L } ? L : never) : never>;

/** The SDK's way of writing the same answers: the reference the string renderer must match byte for byte. */
function sdkTwiml(outputs: readonly Output[], wait: Wait, actionUrl: string): string {
  const response = new VoiceResponse();
  const speak = (target: { say: Say; pause: InstanceType<typeof VoiceResponse>['pause'] }) => {
    for (const o of outputs) {
      if (o.kind === 'say') target.say({ language: o.locale as SayLanguage }, o.text);
      else target.pause({ length: o.seconds });
    }
  };
  if (wait.kind === 'gather') {
    speak(response.gather({ input: ['dtmf'], numDigits: wait.numDigits, timeout: wait.timeoutSeconds, action: actionUrl, method: 'POST', actionOnEmptyResult: true }));
  } else if (wait.kind === 'transfer') {
    speak(response);
    response.enqueue(queueName(wait));
  } else {
    speak(response);
    response.hangup();
  }
  return response.toString();
}

// Text XML can carry (xmlbuilder refuses the rest; the drop itself is tested below), with the
// characters escaping is about.
const XML_TEXT = fc.string({
  unit: fc.oneof(
    fc.constantFrom('&', '<', '>', '"', "'", '\r', '\n', '\t', ']]>', '&amp;', '&#x41;', 'é', '€', '😀', ' '),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }).filter((s) => xmlLegal(s) === s),
  ),
  maxLength: 40,
});
const OUTPUT: fc.Arbitrary<Output> = fc.oneof(
  fc.record({ kind: fc.constant('say' as const), text: XML_TEXT, locale: fc.constantFrom('en-US', 'es-US') }),
  fc.record({ kind: fc.constant('pause' as const), seconds: fc.integer({ min: 0, max: 10 }) }),
);
const WAIT: fc.Arbitrary<Wait> = fc.oneof(
  fc.record({ kind: fc.constant('gather' as const), numDigits: fc.integer({ min: 1, max: 20 }), timeoutSeconds: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ kind: fc.constant('transfer' as const), queue: XML_TEXT, verified: fc.boolean() }),
  fc.record({ kind: fc.constant('hangup' as const) }),
);
const URL_ = fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), XML_TEXT.map((s) => `https://ivr.bank.test/twilio/step?t=1&x=${s}`));

describe('TwiML rendered as strings', () => {
  it('is byte for byte what the SDK VoiceResponse writes, for any prompts, waits and URLs', () => {
    fc.assert(
      fc.property(fc.array(OUTPUT, { maxLength: 6 }), WAIT, URL_, (outputs, wait, url) => {
        expect(renderTwiml(outputs, wait, url)).toBe(sdkTwiml(outputs, wait, url));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes the fixed answers as the SDK does', () => {
    const apology = new VoiceResponse();
    apology.say({ language: 'en-US' }, 'Sorry & <goodbye>');
    apology.enqueue('support-unverified');
    expect(failClosedTwiml('Sorry & <goodbye>', 'en-US', 'support')).toBe(apology.toString());
    expect(emptyTwiml()).toBe(new VoiceResponse().toString());
    const redirect = new VoiceResponse();
    redirect.pause({ length: 1 });
    redirect.redirect({ method: 'POST' }, 'https://ivr.bank.test/twilio/resume?a=1&b="2"');
    expect(redirectTwiml('https://ivr.bank.test/twilio/resume?a=1&b="2"')).toBe(redirect.toString());
  });

  it('drops characters XML cannot carry instead of failing the call', () => {
    const twiml = renderTwiml([{ kind: 'say', text: 'a\u0000b\u001Fc\uFFFEd\uD800e', locale: 'en-US' }], { kind: 'hangup' }, '');
    expect(twiml).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-US">abcde</Say><Hangup/></Response>');
  });
});
