import request from 'supertest';
import { expect } from 'vitest';
import { PUBLIC_BASE_URL, type caller, type TestApp } from './app.js';
import type { enrollDevice } from './authenticator.js';
import type { ParsedTwiml } from './twiml.js';

/** The DID as heard in either shipped language: the digits after "code is" / "código es". */
export function heardCode(t: ParsedTwiml): string {
  for (const s of t.says) {
    const m = /(?:code is|código es) ([\d,\s]+)/i.exec(s.text);
    if (m?.[1]) return m[1].replace(/\D/g, '');
  }
  return '';
}

/**
 * Confirms the code the caller just heard (`atCode`) on `customerId`'s enrolled test device and
 * follows the live-call redirect the app makes, as Twilio would: the verified branch's TwiML.
 */
export async function confirmHeardCode(t: TestApp, call: ReturnType<typeof caller>, device: Awaited<ReturnType<typeof enrollDevice>>, atCode: ParsedTwiml) {
  const did = heardCode(atCode);
  expect(did).toMatch(/^\d{6}$/);
  expect((await device.confirm(did)).status).toBe(200);
  const update = t.twilioFake.callUpdates().find((u) => u.path.endsWith(`/Calls/${call.callSid}.json`));
  expect(update?.form.Url).toBeDefined();
  return call.fetch(update?.form.Url ?? '');
}

/** The call's audit timeline through the admin API. */
export async function timelineOf(t: TestApp, callSid: string): Promise<Record<string, unknown>[]> {
  const res = await request(t.app).get(`/admin/v1/calls/${callSid}/events`).set('Authorization', `Bearer ${t.adminKey}`);
  expect(res.status).toBe(200);
  return (res.body as { events: Record<string, unknown>[] }).events;
}

/** The link in a statement SMS, as a path under PUBLIC_BASE_URL. */
export function linkPath(body: string): string {
  const m = new RegExp(`${PUBLIC_BASE_URL.replace(/[.]/g, '\\.')}(/s/[A-Za-z0-9_-]+)`).exec(body);
  if (!m?.[1]) throw new Error('no statement link in the SMS body');
  return m[1];
}
