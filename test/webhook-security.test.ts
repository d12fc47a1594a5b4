import { gzipSync } from 'node:zlib';
import request from 'supertest';
import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PUBLIC_BASE_URL, caller, newCallSid, startTestApp, type TestApp } from './support/app.js';
import { heard, parseTwiml } from './support/twiml.js';

/** The sum of a Prometheus counter's series in the app's /metrics text. */
async function counter(t: TestApp, name: string): Promise<number> {
  const text = (await request(t.app).get('/metrics')).text;
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && /^[a-z_]+(\{[^}]*\})? /.test(line)) sum += Number(line.split(' ').pop());
  return sum;
}

/** The five exits of a refused webhook, before and after: store keys, fail_closed, audit events, warning lines. */
async function exits(t: TestApp) {
  return {
    keys: (await t.built.deps.store.redis.keys(`${t.config.keyPrefix}*`)).length,
    failClosed: await counter(t, 'vaultline_fail_closed_total'),
    auditEvents: await counter(t, 'vaultline_audit_events_total'),
    refusalLines: t.logs.filter((l) => l.msg === 'webhook_signature_rejected').length,
    errorLines: t.logs.filter((l) => Number(l.level) >= 50).length,
    auditLines: t.logs.filter((l) => l.audit !== undefined).length,
  };
}

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
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    // A warning line, not an audit event.
    expect(t.logs.filter((l) => l.msg === 'webhook_signature_rejected')).toEqual([expect.objectContaining({ level: 40, status: 403, reason: 'missing' })]);
    expect(t.logs.filter((l) => l.audit !== undefined)).toEqual([]);
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

  const signedFor = (path: string, p: Record<string, string | string[]>) => twilio.getExpectedTwilioSignature(t.config.twilio.authToken, PUBLIC_BASE_URL + path, p);
  const form = (p: Record<string, string>) => new URLSearchParams(p).toString();

  it('when hostile bodies flood /twilio/*, then each gets its 4xx, plain text, with no store write, no fail_closed, no audit event and one warning line for the lot', async () => {
    const p = params();
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `f${i}=1`).join('&');
    const hostile: { what: string; status: number; send: () => request.Test }[] = [
      { what: 'an unsigned 100 KB form', status: 413, send: () => request(t.app).post('/twilio/voice').type('form').send(`${form(p)}&Pad=${'x'.repeat(100 * 1024)}`) },
      { what: 'an unsigned 8 MB form', status: 413, send: () => request(t.app).post('/twilio/voice').type('form').send(`${form(p)}&Pad=${'x'.repeat(8 * 1024 * 1024)}`) },
      { what: '10,000 fields', status: 413, send: () => request(t.app).post('/twilio/step?t=1').type('form').send(fields(10_000)) },
      { what: '1,000 fields in a small body', status: 400, send: () => request(t.app).post('/twilio/step?t=1').type('form').send(fields(1000).replace(/=1/g, '=')) },
      { what: '10,000 empty fields', status: 400, send: () => request(t.app).post('/twilio/step?t=1').type('form').send('&'.repeat(9_999)) },
      { what: 'a JSON body', status: 400, send: () => request(t.app).post('/twilio/voice').set('Content-Type', 'application/json').send(JSON.stringify(p)) },
      {
        what: 'a JSON body with a signature over the URL alone',
        status: 400,
        send: () => request(t.app).post('/twilio/voice').set('Content-Type', 'application/json').set('X-Twilio-Signature', signedFor('/twilio/voice', {})).send('{}'),
      },
      { what: 'text/plain', status: 400, send: () => request(t.app).post('/twilio/voice').set('Content-Type', 'text/plain').send(form(p)) },
      { what: 'no content type', status: 400, send: () => request(t.app).post('/twilio/status').send(Buffer.from(form(p))) },
      { what: 'multipart', status: 400, send: () => request(t.app).post('/twilio/voice').field('CallSid', p.CallSid) },
      { what: 'broken percent-encoding', status: 400, send: () => request(t.app).post('/twilio/voice').type('form').send(`${form(p)}&Digits=%E0%A4%A`) },
      { what: 'bytes that are not UTF-8', status: 400, send: () => request(t.app).post('/twilio/voice').type('form').send(Buffer.concat([Buffer.from(`${form(p)}&Digits=`), Buffer.from([0xff, 0xfe])])) },
      { what: 'a gzip body', status: 400, send: () => request(t.app).post('/twilio/voice').type('form').set('Content-Encoding', 'gzip').send(gzipSync(form(p))) },
      { what: 'a field without a value separator', status: 400, send: () => request(t.app).post('/twilio/voice').type('form').send(`${form(p)}&junk`) },
      { what: 'a missing signature', status: 403, send: () => request(t.app).post('/twilio/voice').type('form').send(p) },
      { what: 'a wrong signature', status: 403, send: () => request(t.app).post('/twilio/voice').type('form').set('X-Twilio-Signature', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=').send(p) },
      { what: 'a GET', status: 400, send: () => request(t.app).get('/twilio/voice') },
    ];
    const before = await exits(t);
    for (const h of hostile) {
      const res = await h.send().catch((err: unknown) => ({ status: 0, headers: {}, err }) as never);
      expect({ what: h.what, status: res.status }).toEqual({ what: h.what, status: h.status });
      expect(String(res.headers['content-type'])).toMatch(/^text\/plain/);
    }
    const after = await exits(t);
    expect(after).toEqual({ ...before, refusalLines: 1 });
    expect(await counter(t, 'vaultline_webhook_refusals_total')).toBe(hostile.length);
    // The one line says how many refusals it stands for from the next one on; the first stands for itself.
    expect(t.logs.find((l) => l.msg === 'webhook_signature_rejected')).toMatchObject({ level: 40, refusals: 1 });
  });

  it('when refusals go on past the log interval, then one more warning line counts the refusals it stood for', async () => {
    const send = () => request(t.app).post('/twilio/voice').set('Content-Type', 'application/json').send('{}');
    for (let i = 0; i < 5; i++) expect((await send()).status).toBe(400);
    t.clock.advance(10_000);
    expect((await send()).status).toBe(400);
    expect(t.logs.filter((l) => l.msg === 'webhook_signature_rejected').map((l) => l.refusals)).toEqual([1, 5]);
  });

  it('when a signed request repeats Digits or carries odd fields, then the menu answers it as input', async () => {
    const call = caller(t);
    await call.dial();
    const path = (call.last.gather?.action ?? '').slice(PUBLIC_BASE_URL.length);
    const base = { CallSid: call.callSid, AccountSid: t.config.twilio.accountSid, CallStatus: 'in-progress' };
    // Digits twice, with different values, plus fields named like Object.prototype members.
    const signed: Record<string, string | string[]> = Object.fromEntries([...Object.entries(base), ['Digits', ['0', '5']], ['__proto__', 'x'], ['constructor', ''], ['toString', '1']]);
    const body = `${form(base)}&Digits=0&Digits=5&__proto__=x&constructor=&toString=1`;
    const before = await exits(t);
    const res = await request(t.app).post(path).type('form').set('X-Twilio-Signature', signedFor(path, signed)).send(body);
    expect(res.status).toBe(200);
    const twiml = parseTwiml(res.text);
    // The first Digits counts: 0 is the agent.
    expect(twiml.enqueue).toBeDefined();
    expect(heard(twiml)).not.toMatch(/sorry|problem/i);
    expect((await exits(t)).failClosed).toBe(before.failClosed);
  });
});
