import { afterEach, describe, expect, it } from 'vitest';
import { caller, startTestApp, type TestApp } from './support/app.js';
import { enrollDevice } from './support/authenticator.js';
import { heard } from './support/twiml.js';
import { confirmHeardCode, heardCode, timelineOf } from './support/verified-call.js';

/** Issue 15 item 4: the caller's language, chosen at the main menu or by the dialled number, carried everywhere. */

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const SPANISH_MENU = /Para consultar su saldo, oprima 1/;

describe('the caller picks Spanish', () => {
  it('when an English-on-file customer presses 9, then code, confirmation, balance, months and statement SMS are all in Spanish', async () => {
    t = await startTestApp();
    const device = await enrollDevice(t, 'cust_001'); // Ada's locale on file is en-US: the call's language wins (A3)
    const call = caller(t, { from: '+14155550999' });
    expect(heard(await call.dial())).toMatch(/Para español, oprima 9\./);

    const menu = await call.press('9');
    expect(heard(menu)).toMatch(SPANISH_MENU);
    expect(menu.says.every((s) => !/For your account balance/.test(s.text))).toBe(true);

    const code = await call.press('1');
    expect(heard(code)).toMatch(/^Su código es \d(, \d){5}\. Ingréselo en la aplicación Vaultline/);
    expect(heardCode(code)).toMatch(/^\d{6}$/);

    const verified = await confirmHeardCode(t, call, device, code);
    expect(heard(verified)).toContain('Gracias, su identidad ha sido verificada.');
    // Intl's es-US currency: the same digits, spoken the locale's way.
    expect(heard(verified)).toContain(`Para la cuenta que termina en 9 8 7 6, su saldo disponible es ${new Intl.NumberFormat('es-US', { style: 'currency', currency: 'USD' }).format(1250.5)}.`);
    expect(heard(verified)).toMatch(SPANISH_MENU);

    const months = await call.press('2');
    expect(heard(months)).toContain('Para octubre de 2026, oprima 1. Para septiembre de 2026, oprima 2.');
    const sent = await call.press('1');
    expect(heard(sent)).toContain('Enviamos un enlace a su celular que termina en 0 1 0 1.');

    const [sms] = t.twilioFake.messages();
    expect(sms?.form.Body).toMatch(/^Vaultline Bank: su estado de cuenta de octubre de 2026: https:\/\/\S+\/s\/[A-Za-z0-9_-]+ \(un solo uso, vence en 10 min\)$/);
    const events = await timelineOf(t, call.callSid);
    expect(events.filter((e) => e.type === 'language_selected')).toEqual([expect.objectContaining({ locale: 'es-US', via: 'menu' })]);
    // The TwiML tells Twilio's text-to-speech which language it is reading.
    expect(sent.says.filter((s) => s.language !== undefined).every((s) => s.language === 'es-US')).toBe(true);
  });

  it('when the caller dials the Spanish line, then the call starts in Spanish and the choice is recorded as by number', async () => {
    t = await startTestApp();
    const call = caller(t, { to: '+18005550198' });
    const first = await call.dial();
    expect(heard(first)).toMatch(/^Gracias por llamar a Vaultline Bank/);
    expect(heard(first)).toMatch(SPANISH_MENU);
    const events = await timelineOf(t, call.callSid);
    expect(events.filter((e) => e.type === 'language_selected')).toEqual([expect.objectContaining({ locale: 'es-US', via: 'number' })]);
  });

  it('when the caller dials the main line, then the call starts in English and no language choice is recorded', async () => {
    t = await startTestApp();
    const call = caller(t);
    expect(heard(await call.dial())).toMatch(/^Thank you for calling Vaultline Bank/);
    expect((await timelineOf(t, call.callSid)).map((e) => e.type)).not.toContain('language_selected');
  });
});
