import { Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log/logger.js';
import { createScrubber, luhnValid } from '../src/log/scrub.js';

/**
 * Issue 3 item 8 (DESIGN B4): two layers over every log line. The scrubber rules one by one (what
 * must go and what must stay), a property over random card/account numbers, and the real logger:
 * Twilio form fields, headers, nested errors, log injection.
 */

const SECRET = 'canary-secret-5b1e77d0';
const scrub = createScrubber([SECRET, 'short']);

const JWT = 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImNhbGwrand0In0.eyJzdWIiOiJjdXN0XzAwMSIsImNpZCI6IkNBMSJ9.MEUCIQDx3k9bz6Pq8sWl1yL2mC4cZ9uVb0h7nYd5aRq3tE8wFg';
const DETACHED_JWS = 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImRldi0xIn0..MEUCIQDx3k9bz6Pq8sWl1yL2mC4cZ9uVb0h7nYd5aRq3tE8wFg';

describe('scrubber: values that must pass through unchanged', () => {
  it.each([
    ['an ISO timestamp', '"at":"2026-11-22T09:05:14.972Z"'],
    ['an ISO time with an offset', 'at 2026-11-22 09:05:14+01:00 done'],
    ['a date', 'statement of 2026-10-31'],
    ['a date after a short number', 'retry 3 2026-11-22T09:05:14.972Z'],
    ['an RFC 2822 time', 'Sat, 22 Nov 2026 09:05:14 +0000'],
    ['a test CallSid', 'CA0000000000000001a20280a50f000002'],
    ['an all-digit CallSid', 'callId=CA00000000000000000000000000000001'],
    ['an AccountSid', 'AC1234567890123456789012345678900f'],
    ['a MessageSid', 'SM' + '9'.repeat(30) + 'ab'],
    ['a session id', 'ses_u7Q0m3cZgC0h9o1m2yYt9A_9f2JcVn1oV2p6Qb7'],
    ['a session id holding a digit run', 'sessionId ses_u7Q0m3cZgC0h9o1m2yYt9A_ab-123456_x'],
    ['a device id holding a digit run', 'dev_Ab-1234567890_CdEfGhIjKlMn'],
    ['a UUID', '123e4567-e89b-12d3-a456-426614174000'],
    ['an all-digit UUID', '12345678-1234-1234-1234-123456789012'],
    ['a duration', 'intercept took 1234 ms (0.25 s)'],
    ['a port', 'listening on http://127.0.0.1:8080'],
    ['an HTTP status', 'core banking answered 503'],
    ['a status and a size', 'status 200 1234 bytes'],
    ['an amount', 'your available balance is $1,250.50.'],
    ['a bare amount', 'balance 1250.50'],
    ['a large amount', 'amount 1234567.89'],
    ['the last four already masked', 'account ending in 7 7 8 8, ••••7788'],
    ['five spoken digits', '1, 2, 3, 4, 5'],
    ['a five-digit run', 'code 12345'],
    ['digits inside hex', 'sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    ['a version and an IP address', 'v1.2.3 on 192.168.100.200'],
    ['a secret shorter than 6 characters (ignored: it would match by accident)', 'a short word'],
    ['plain text', 'statement link refused'],
    ['a non-Luhn 16 digits glued to letters', 'PAN4000123412349876'],
  ])('%s', (_label, input) => {
    expect(scrub(input)).toBe(input);
  });
});

describe('scrubber: values that must be replaced', () => {
  it.each([
    // 6–11 standalone digits: nothing kept.
    ['a six-digit DID', 'your code is 123456', 'your code is [digits]'],
    ['a DID at the end of a sentence', 'code 123456.', 'code [digits].'],
    ['a ten-digit DID', 'did=1234567890', 'did=[digits]'],
    ['an eleven-digit number without +', 'caller 14155550101', 'caller [digits]'],
    ['a short account number', 'account 12345678 locked', 'account [digits] locked'],
    ['an OTP in JSON text', '{"otp":"654321"}', '{"otp":"[digits]"}'],
    ['an OTP after a percent-escape', 'q=%20123456%20', 'q=%20[digits]%20'],
    ['an OTP next to a date', '2026-11-22-123456', '2026-11-22-[digits]'],
    ['one long group beside a short one', 'errors: 3 12345678', 'errors: 3 [digits]'],
    ['a phone number with dashes', 'call 415-555-0101', 'call [digits]'],
    ['a phone number with dots', 'call 415.555.0101', 'call [digits]'],
    ['a phone number with spaces', 'call 415 555 0101', 'call [digits]'],
    ['a phone number with parentheses', 'call (415) 555-0101', 'call [digits]'],
    // 12–19 digits: the last four only.
    ['a card number', 'card 4111111111111111 declined', 'card …1111 declined'],
    ['a card number in groups of four', 'card 4111 1111 1111 1111', 'card …1111'],
    ['a card number with hyphens', 'card 4111-1111-1111-1111', 'card …1111'],
    ['an Amex number 4-6-5', 'amex 3782 822463 10005', 'amex …0005'],
    ['a 12-digit account number', 'account 400012349876', 'account …9876'],
    ['a 19-digit account number', 'account 4000123412349876123', 'account …6123'],
    ['a non-Luhn account number', 'account 4000123412349876 locked for +14155550101', 'account …9876 locked for +…0101'],
    ['an account number after an underscore', 'acct_4000123412349876', 'acct_…9876'],
    ['a Luhn-valid card glued to letters', 'PAN4111111111111111x', 'PAN…1111x'],
    ['a longer run', 'ref 123456789012345678901234', 'ref …1234'],
    // Spoken codes.
    ['a DID read with commas', '<Say>Your code is 1, 2, 3, 4, 5, 6.</Say>', '<Say>Your code is [digits].</Say>'],
    ['a DID read with spaces', 'heard 1 2 3 4 5 6', 'heard [digits]'],
    ['a DID read with bare commas', 'heard 9,8,7,6,5,4,3,2', 'heard [digits]'],
    ['a long number read digit by digit', '4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1', '[digits]'],
    // Phone numbers with a +.
    ['an E.164 number', 'The To number +14155550101 is not valid.', 'The To number +…0101 is not valid.'],
    ['an E.164 number with spaces', 'from +1 415 555 0101', 'from +…0101'],
    ['an E.164 number with punctuation', 'from +1 (415) 555-0101', 'from +…0101'],
    ['a UK number', 'from +442079460958', 'from +…0958'],
    ['a URL-encoded E.164 number', 'From=%2B14155550101&CallStatus=ringing', 'From=%2B…0101&CallStatus=ringing'],
    // Tokens.
    ['a JWT', `Bearer ${JWT}`, 'Bearer [jwt]'],
    ['a detached JWS', `jws=${DETACHED_JWS}&x`, 'jws=[jwt]&x'],
    ['a JWT glued to text', `tokenis${JWT}`, 'tokenis[jwt]'],
    ['a JWE (five parts)', `${JWT}.abc.def`, '[jwt]'],
    ['a bare base64url JSON payload', 'payload eyJzdWIiOiJjdXN0XzAwMSIsImNpZCI6IkNBMSJ9', 'payload [jwt]'],
    ['a statement link', 'https://ivr.test/s/AbCdEfGhIjKlMnOpQrStUvWxYz012345 (single use)', 'https://ivr.test/s/[link] (single use)'],
    ['a short link token', 'GET /s/abc', 'GET /s/[link]'],
    ['a URL-encoded link', 'Url=https%3A%2F%2Fivr.test%2Fs%2FAbCdEf', 'Url=https%3A%2F%2Fivr.test%2Fs%2F[link]'],
    [
      'an S3 presigned URL',
      'https://s3.test/statements/f.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261122&X-Amz-Expires=60&X-Amz-Signature=abc123&x-id=GetObject',
      'https://s3.test/statements/f.pdf?X-Amz-Algorithm=[redacted]&X-Amz-Credential=[redacted]&X-Amz-Expires=[redacted]&X-Amz-Signature=[redacted]&x-id=GetObject',
    ],
    ['a local presigned URL', 'https://ivr.test/files/f.pdf?exp=1732265114&sig=abcDEF#x', 'https://ivr.test/files/f.pdf?exp=[redacted]&sig=[redacted]#x'],
    ['legacy S3 query parameters', '?AWSAccessKeyId=AKIAXYZ&Expires=1732265114&Signature=aBc%2Bdef', '?AWSAccessKeyId=[redacted]&Expires=[redacted]&Signature=[redacted]'],
    ['a presigned URL inside another URL', 'Url=https%3A%2F%2Fh%2Ff%3Fsig%3Dxyz%26a%3D1', 'Url=https%3A%2F%2Fh%2Ff%3Fsig%3D[redacted]%26a%3D1'],
    ['a known secret', `auth ${SECRET} refused`, 'auth [redacted] refused'],
    ['a known secret glued to text', `Basic:${SECRET}x`, 'Basic:[redacted]x'],
    // Line breaks.
    ['CR/LF and Unicode line separators', 'a\nb\r\nc\u2028d\u2029e', 'a b c d e'],
  ])('%s', (_label, input, expected) => {
    expect(scrub(input)).toBe(expected);
  });

  it('when several secrets overlap, then the longest is replaced whole', () => {
    const s = createScrubber(['abcdef', 'abcdefghij']);
    expect(s('x abcdefghij y abcdef')).toBe('x [redacted] y [redacted]');
  });

  it('Luhn: known card numbers pass the check, a changed digit fails it', () => {
    for (const card of ['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117']) expect(luhnValid(card)).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
  });
});

describe('scrubber: properties', () => {
  const filler = fc.stringMatching(/^[A-Za-z .,:;()'"=<>!?-]{0,30}$/);
  /** Filler that cannot glue onto the number: it ends and starts with a separator. */
  const around = fc.tuple(filler, filler).map(([a, b]) => [`${a} `, ` ${b}`] as const);

  it('when a random 12–19 digit number is embedded in random text, at most its last four show', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{12,19}$/), fc.constantFrom('', ' ', '-'), around, (digits, sep, [before, after]) => {
        // Contiguous, or in groups of four joined by a space or a hyphen.
        const written = sep === '' ? digits : digits.replace(/(\d{4})(?=\d)/g, `$1${sep}`);
        const out = scrub(`${before}${written}${after}`);
        expect(out).toContain(`…${digits.slice(-4)}`);
        const shown = out.replace(/\D/g, '');
        // No digits besides the last four: the filler has none.
        expect(shown).toBe(digits.slice(-4));
      }),
      { numRuns: 300 },
    );
  });

  it('when a random Luhn-valid card number is glued to letters, at most its last four show', () => {
    const card = fc.stringMatching(/^[0-9]{12,18}$/).map((body) => {
      const check = [...'0123456789'].find((d) => luhnValid(body + d)) ?? '0';
      return body + check;
    });
    fc.assert(
      fc.property(card, fc.stringMatching(/^[A-Za-z]{1,8}$/), (number, prefix) => {
        expect(scrub(`${prefix}${number}`)).toBe(`${prefix}…${number.slice(-4)}`);
      }),
      { numRuns: 200 },
    );
  });

  it('when a random 6–11 digit code is embedded in random text, none of its digits show', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{6,11}$/), fc.constantFrom('plain', 'spoken', 'commas'), around, (code, form, [before, after]) => {
        const written = form === 'plain' ? code : [...code].join(form === 'spoken' ? ' ' : ', ');
        expect(scrub(`${before}${written}${after}`).replace(/\D/g, '')).toBe('');
      }),
      { numRuns: 300 },
    );
  });

  it('when a random ISO timestamp, CallSid or session id is scrubbed, it is unchanged', () => {
    const sid = fc.tuple(fc.constantFrom('CA', 'AC', 'SM', 'MM'), fc.stringMatching(/^[0-9a-f]{32}$/)).map(([p, h]) => p + h);
    const timestamp = fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }).map((d) => d.toISOString());
    const sessionId = fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{22}$/), fc.stringMatching(/^[A-Za-z0-9_-]{16}$/)).map(([a, b]) => `ses_${a}_${b}`);
    fc.assert(
      fc.property(fc.oneof(sid, timestamp, sessionId, fc.uuid()), (value) => {
        expect(scrub(`"id":"${value}"`)).toBe(`"id":"${value}"`);
      }),
      { numRuns: 500 },
    );
  });
});

/** The real logger writing to an array of lines. */
function capture(secrets: readonly string[] = [SECRET]) {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  const logger = createLogger({ level: 'info', destination, scrub: createScrubber(secrets) });
  const lines = () => chunks.join('').split('\n').filter((l) => l !== '');
  return { logger, lines, raw: () => chunks.join('') };
}

describe('logger: both layers on a real log line', () => {
  const PHONE = '+14155550177';
  const CALLED = '+18005550199';
  const DID = '493817';

  it('when a Twilio form, an authorization header and a nested error are logged, then none of their values is in the line', () => {
    const { logger, lines } = capture();
    const cause = new Error(`token ${JWT} rejected for ${PHONE}`);
    logger.error(
      {
        form: { CallSid: 'CA0000000000000001a20280a50f000002', From: PHONE, To: CALLED, Caller: PHONE, Called: CALLED, Digits: DID, SpeechResult: 'my code is four nine three' },
        req: { method: 'POST', headers: { authorization: `Bearer ${JWT}`, 'x-twilio-signature': 'c2lnbmF0dXJlLXNlY3JldA==', cookie: 'sid=abc' } },
        deeper: { context: { err: new Error(`Twilio 21211: The 'To' number ${PHONE} is not valid`, { cause }) } },
        note: `caller ${PHONE} typed ${DID} with ${SECRET}`,
      },
      'webhook failed for %s',
      PHONE,
    );
    expect(lines()).toHaveLength(1);
    const line = lines()[0] ?? '';
    for (const value of [PHONE, PHONE.slice(1), CALLED.slice(1), DID, 'my code is', JWT.slice(0, 20), 'c2lnbmF0dXJl', 'sid=abc', SECRET, '41555501']) {
      expect(line).not.toContain(value);
    }
    const parsed = JSON.parse(line) as Record<string, never>;
    expect(parsed).toMatchObject({
      msg: 'webhook failed for +…0177',
      note: 'caller +…0177 typed [digits] with [redacted]',
      form: { CallSid: 'CA0000000000000001a20280a50f000002', From: '[redacted]', To: '[redacted]', Caller: '[redacted]', Called: '[redacted]', Digits: '[redacted]', SpeechResult: '[redacted]' },
      req: { method: 'POST', headers: { authorization: '[redacted]', 'x-twilio-signature': '[redacted]', cookie: '[redacted]' } },
      deeper: { context: { err: { type: 'Error', message: "Twilio 21211: The 'To' number +…0177 is not valid", cause: { message: 'token [jwt] rejected for +…0177' } } } },
    });
  });

  it('when the same form fields are logged at the top level, then layer one redacts them', () => {
    const { logger, lines } = capture();
    logger.info({ From: PHONE, To: CALLED, Digits: '1', SpeechResult: 'balance', authorization: 'Basic dXNlcjpwYXNz' }, 'form');
    expect(JSON.parse(lines()[0] ?? '{}')).toMatchObject({ From: '[redacted]', To: '[redacted]', Digits: '[redacted]', SpeechResult: '[redacted]', authorization: '[redacted]' });
  });

  it('when an audit event is logged, then its time, CallSid and session id are readable as they were', () => {
    const { logger, lines } = capture();
    const audit = { type: 'session_created', at: '2026-11-22T09:05:14.972Z', callId: 'CA0000000000000001a20280a50f000002', sessionId: 'ses_u7Q0m3cZgC0h9o1m2yYt9A_9f2JcVn1oV2p6Qb7' };
    logger.child({ component: 'audit' }).info({ audit }, `audit ${audit.type}`);
    const line = JSON.parse(lines()[0] ?? '{}') as { audit: unknown; time: string; component: string };
    expect(line.audit).toEqual(audit);
    expect(line.component).toBe('audit');
    expect(line.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('when an error is logged on its own, then the message pino takes from it is scrubbed too', () => {
    const { logger, lines } = capture();
    logger.error(new Error(`could not send to ${PHONE}`));
    logger.error({ err: new Error(`link /s/AbCdEfGhIjKlMnOp for ${PHONE}`) });
    const [first, second] = lines().map((l) => JSON.parse(l) as { msg: string; err: { message: string } });
    expect(first?.msg).toBe('could not send to +…0177');
    expect(second?.msg).toBe('link /s/[link] for +…0177');
    expect(second?.err.message).toBe('link /s/[link] for +…0177');
    expect(lines().join('\n')).not.toContain('4155550177');
  });

  it('when a child logger is bound to sensitive text, then its bindings are scrubbed', () => {
    const { logger, lines } = capture();
    logger.child({ caller: PHONE, link: '/s/AbCdEfGhIjKlMnOp' }).info('bound');
    expect(JSON.parse(lines()[0] ?? '{}')).toMatchObject({ caller: '+…0177', link: '/s/[link]', msg: 'bound' });
  });

  it('when objects with toJSON (dates, masked numbers) or deep nesting are logged, then they render and nothing deep leaks', () => {
    const { logger, lines } = capture();
    let deep: Record<string, unknown> = { secret: `otp ${DID}` };
    for (let i = 0; i < 12; i++) deep = { next: deep };
    logger.info({ when: new Date('2026-11-22T09:05:14.972Z'), deep }, 'shapes');
    const line = lines()[0] ?? '';
    expect(JSON.parse(line)).toMatchObject({ when: '2026-11-22T09:05:14.972Z' });
    expect(line).not.toContain(DID);
  });

  it('when a message is interpolated with an object, then the interpolated text is scrubbed', () => {
    const { logger, lines } = capture();
    logger.info('form %j', { note: `from ${PHONE}` });
    expect(lines()[0]).not.toContain('4155550177');
  });
});

describe('logger: log injection cannot forge a line', () => {
  const FORGED = '\n{"level":30,"time":"2026-11-22T09:05:14.972Z","msg":"forged"}\n';

  it.each([
    ['in Digits', (l: ReturnType<typeof capture>['logger']) => l.info({ form: { Digits: `1${FORGED}` } }, 'gather')],
    ['in a nested string', (l: ReturnType<typeof capture>['logger']) => l.info({ form: { Note: `1${FORGED}` } }, 'gather')],
    ['in the message', (l: ReturnType<typeof capture>['logger']) => l.info(`caller said ${FORGED}`)],
    ['in an interpolated argument', (l: ReturnType<typeof capture>['logger']) => l.info('caller said %s', FORGED)],
    ['in an error message', (l: ReturnType<typeof capture>['logger']) => l.error(new Error(`bad ${FORGED}`))],
    ['in a key', (l: ReturnType<typeof capture>['logger']) => l.info({ [`k${FORGED}`]: 'v' }, 'odd key')],
    ['with a carriage return and Unicode separators', (l: ReturnType<typeof capture>['logger']) => l.info(`a\r{"msg":"forged"}\u2028{"msg":"forged"}\u2029b`)],
  ])('%s: exactly one JSON line, and no forged entry', (_label, log) => {
    const { logger, raw } = capture();
    log(logger);
    const text = raw();
    // One line: a single newline, at the very end, and no Unicode line separator a viewer could split on.
    expect(text.indexOf('\n')).toBe(text.length - 1);
    expect(text).not.toMatch(/[\r\u2028\u2029]/);
    const entry = JSON.parse(text) as { msg?: string };
    expect(entry.msg).not.toBe('forged');
    expect(JSON.stringify(entry)).not.toMatch(/\\n|\\r/);
  });
});
