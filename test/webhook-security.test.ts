import request from 'supertest';
import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PUBLIC_BASE_URL, newCallSid, startTestApp, type TestApp } from './support/app.js';
import { parseTwiml } from './support/twiml.js';

describe('signed Twilio webhooks', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  const storeKeys = async () => t.built.deps.store.redis.keys(`${t.config.keyPrefix}*`);
  const params = () => ({ CallSid: newCallSid(), From: '+14155550101', To: '+18005550199', CallStatus: 'ringing' });

  it('when the signature is missing, then the answer is 403 and nothing is stored', async () => {
    const res = await request(t.app).post('/twilio/voice').type('form').send(params());
    expect(res.status).toBe(403);
    expect(await storeKeys()).toEqual([]);
    expect(t.logs.some((l) => (l.audit as { type?: string } | undefined)?.type === 'webhook_signature_rejected')).toBe(true);
  });

  it('when the signature is wrong, then the answer is 403 and nothing is stored', async () => {
    const p = params();
    const sig = twilio.getExpectedTwilioSignature('not-the-auth-token', `${PUBLIC_BASE_URL}/twilio/voice`, p);
    const res = await request(t.app).post('/twilio/voice').type('form').set('X-Twilio-Signature', sig).send(p);
    expect(res.status).toBe(403);
    expect(await storeKeys()).toEqual([]);
  });

  it('when the signature was made for other parameters, then the answer is 403 and no session is created', async () => {
    const p = params();
    const sig = twilio.getExpectedTwilioSignature(t.config.twilio.authToken, `${PUBLIC_BASE_URL}/twilio/step?t=1`, { ...p, Digits: '2' });
    const res = await request(t.app).post('/twilio/step?t=1').type('form').set('X-Twilio-Signature', sig).send({ ...p, Digits: '1' });
    expect(res.status).toBe(403);
    expect(await storeKeys()).toEqual([]);
  });

  it('when a request is signed for a spoofed X-Forwarded-Host, then it is refused; the real URL still verifies whatever the header says', async () => {
    const p = params();
    const spoofed = twilio.getExpectedTwilioSignature(t.config.twilio.authToken, 'https://evil.example/twilio/voice', p);
    const refused = await request(t.app)
      .post('/twilio/voice')
      .type('form')
      .set('X-Forwarded-Host', 'evil.example')
      .set('X-Forwarded-Proto', 'https')
      .set('Host', 'evil.example')
      .set('X-Twilio-Signature', spoofed)
      .send(p);
    expect(refused.status).toBe(403);
    const genuine = twilio.getExpectedTwilioSignature(t.config.twilio.authToken, `${PUBLIC_BASE_URL}/twilio/voice`, p);
    const accepted = await request(t.app).post('/twilio/voice').type('form').set('X-Forwarded-Host', 'evil.example').set('X-Twilio-Signature', genuine).send(p);
    expect(accepted.status).toBe(200);
    expect(parseTwiml(accepted.text).gather?.action.startsWith(`${PUBLIC_BASE_URL}/twilio/`)).toBe(true);
  });

  it('when the signature is valid, then the caller hears the main menu as TwiML', async () => {
    const res = await t.twilioPost('/twilio/voice', params());
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/xml/);
    expect(parseTwiml(res.text).gather).toBeDefined();
  });
});
