import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPromptCatalogue } from '../src/engine/catalogue.js';
import { spokenMonth } from '../src/engine/prompts.js';
import { loadFlows } from '../src/flows/load.js';
import { FIXTURE_FLOWS_DIR } from './support/flows.js';
import { linkTtlMinutes } from '../src/statements/sms-text.js';
import { SmsFailedError, type SmsSender } from '../src/telephony/sms.js';
import { createTwilioClient } from '../src/telephony/twilio/rest.js';
import { createTwilioSmsSender } from '../src/telephony/twilio/sms.js';
import { startTwilioFake, type TwilioFake } from './support/twilio-fake.js';

const ACCOUNT_SID = 'AC' + 'a'.repeat(32);
const AUTH_TOKEN = 'sms-test-auth-token';
const MOBILE = '+14155550101';
const LINK = 'https://ivr.bank.test/ivr/s/AbCdEfGhIjKlMnOpQrStUvWxYz012345';
const BODY = `Vaultline Bank: your October 2026 statement: ${LINK} (single use, expires in 10 min)`;

describe('statement SMS through the Twilio Messages API', () => {
  let fake: TwilioFake;
  beforeEach(async () => {
    fake = await startTwilioFake();
  });
  afterEach(async () => {
    await fake.close();
  });

  const senderFrom = (from: string): SmsSender =>
    createTwilioSmsSender(createTwilioClient({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, apiBaseUrl: fake.baseUrl }), { from });

  /** The failure the sender threw, after checking that its face names neither the number nor the link. */
  async function failure(send: Promise<unknown>): Promise<SmsFailedError> {
    const err: unknown = await send.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof SmsFailedError)) throw new Error('the send did not fail with SmsFailedError');
    expect(err.code).toBe('unavailable');
    const visible = `${err.message} ${String((err.cause as Error | undefined)?.message)}`;
    expect(visible).not.toContain('4155550101');
    expect(visible).not.toContain('/s/');
    return err;
  }

  it('when TWILIO_SMS_FROM is a number, then the SDK posts To, From and Body to the account Messages resource', async () => {
    const { sid } = await senderFrom('+15005550006').send({ to: MOBILE, body: BODY });
    expect(sid).toMatch(/^SM/);
    const [msg, ...others] = fake.messages();
    expect(others).toHaveLength(0);
    expect(msg?.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    expect(msg?.form).toEqual({ To: MOBILE, From: '+15005550006', Body: BODY });
    expect(msg?.authorization).toBe(`Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`);
  });

  it('when TWILIO_SMS_FROM is a Messaging Service SID, then it is sent as MessagingServiceSid with no From', async () => {
    const service = 'MG' + '0123456789abcdef'.repeat(2);
    await senderFrom(service).send({ to: MOBILE, body: BODY });
    expect(fake.messages()[0]?.form).toEqual({ To: MOBILE, MessagingServiceSid: service, Body: BODY });
  });

  it('when Twilio answers 500, then SmsFailedError (provider_error) without the number or the body', async () => {
    fake.respond((r) => (r.path.endsWith('/Messages.json') ? { status: 500, body: { code: 20500, message: `Internal error sending to ${MOBILE}`, status: 500 } } : undefined));
    const err = await failure(senderFrom('+15005550006').send({ to: MOBILE, body: BODY }));
    expect(err.reason).toBe('provider_error');
    expect(err.providerStatus).toBe(500);
    // No retry: a second text would be worse than none.
    expect(fake.messages()).toHaveLength(1);
  });

  it('when Twilio refuses the number (400, 21211, quoting it), then SmsFailedError (rejected) keeps the code and drops the number', async () => {
    fake.respond(() => ({ status: 400, body: { code: 21211, message: `The 'To' number ${MOBILE} is not a valid phone number.`, status: 400 } }));
    const err = await failure(senderFrom('+15005550006').send({ to: MOBILE, body: BODY }));
    expect(err.reason).toBe('rejected');
    expect(err.providerCode).toBe(21211);
  });

  it('when Twilio cannot be reached, then SmsFailedError (network)', async () => {
    await fake.close();
    const err = await failure(senderFrom('+15005550006').send({ to: MOBILE, body: BODY }));
    expect(err.reason).toBe('network');
  });

  it('when the recipient is not an E.164 number, then nothing is sent', async () => {
    const err = await failure(senderFrom('+15005550006').send({ to: '4155550101', body: BODY }));
    expect(err.reason).toBe('invalid_recipient');
    expect(fake.messages()).toHaveLength(0);
  });

  it('when TWILIO_SMS_FROM is empty, then the sender cannot be built', () => {
    expect(() => senderFrom('  ')).toThrow(/TWILIO_SMS_FROM/);
  });
});

describe('statement SMS text (A8): the bank and the link, nothing else', () => {
  // The words are a flow's catalogue prompt `statement.sms`: the exact wording is checked on the
  // fixture copy of the default flow, so a flow author rewording the shipped text breaks no TypeScript test.
  const fixture = loadFlows(FIXTURE_FLOWS_DIR);
  const catalogue = createPromptCatalogue(() => fixture);
  it.each([
    ['en-US', `Vaultline Bank: your October 2026 statement: ${LINK} (single use, expires in 10 min)`],
    ['es-US', `Vaultline Bank: su estado de cuenta de octubre de 2026: ${LINK} (un solo uso, vence en 10 min)`],
  ])('when the call speaks %s, then the text reads in that language and fits one segment', (locale, expected) => {
    const body = catalogue.text('statement.sms', locale, { month: spokenMonth('2026-10', locale), url: LINK, minutes: String(linkTtlMinutes(600)) });
    expect(body).toBe(expected);
    // One GSM segment with a link of this length.
    expect(body.length).toBeLessThanOrEqual(160);
  });

  // Whatever the wording, the shipped text must carry the link (its length is the flow author's choice).
  const shipped = loadFlows('flows');
  const shippedCatalogue = createPromptCatalogue(() => shipped);
  it.each([...new Set([...shipped.byId.values()].flatMap((f) => f.locales))].map((l) => [l]))('when the shipped flows text a statement in %s, then the SMS holds the link', (locale) => {
    const body = shippedCatalogue.text('statement.sms', locale, { month: spokenMonth('2026-10', locale), url: LINK, minutes: String(linkTtlMinutes(600)) });
    expect(body).toContain(LINK);
  });

  it('when the lifetime is not a whole number of minutes, then the text rounds down and never promises less than a minute', () => {
    expect(linkTtlMinutes(600)).toBe(10);
    expect(linkTtlMinutes(659)).toBe(10);
    expect(linkTtlMinutes(60)).toBe(1);
  });

  it('when the period is not YYYY-MM, then it is shown as given rather than guessed', () => {
    expect(spokenMonth('2026-Q3', 'en-US')).toBe('2026-Q3');
    expect(spokenMonth('2026-01', 'es-US')).toBe('enero de 2026');
  });
});
