import { randomUUID } from 'node:crypto';
import type { CryptoKey } from 'jose';
import type { TranscriptEntry } from '../../../src/telephony/simulator/types.js';
import { makeTestDevice, signConfirmation } from '../../../test/support/device.js';
import { PUBLIC_BASE_URL, type ConversationApp } from './app.js';
import { matcher, parseDuration, type ConversationCall, type Step } from './spec.js';

/** How long the line may take to answer one input (webhooks on a loaded machine), and an SMS to arrive. */
const SETTLE_MS = 10_000;
const SMS_WAIT_MS = 3_000;

export class ConversationFailure extends Error {
  override readonly name = 'ConversationFailure';
}

/** The code as spoken: digits separated by commas (`4, 8, 2, 9, 1, 3`), in any language. */
const SPOKEN_CODE = /\d(?:,\s*\d){3,}/;

/**
 * What the caller heard, for failure messages: the spoken code and links are masked (nothing sensitive
 * in an error), everything else is the flow's own words.
 */
const shown = (text: string) => text.replace(new RegExp(SPOKEN_CODE.source, 'g'), '<code>').replace(/https?:\/\/\S+/g, '<link>');

/** Runs one call of a conversation test on the app; throws a ConversationFailure naming the step. */
export async function runCall(app: ConversationApp, call: ConversationCall): Promise<void> {
  type SimCall = ReturnType<ConversationApp['phone']['dial']>;
  let line: SimCall | undefined;
  let customer: string | undefined;
  let device: { deviceId: string; privateKey: CryptoKey } | undefined;
  let caller = '';
  /** Transcript index: `hear` looks from here on (in order), inputs move it forward. */
  let cursor = 0;
  /** Transcript index of the last input: the line has answered it once it listens again or ends. */
  let inputAt = 0;

  const entries = (): readonly TranscriptEntry[] => line?.transcript ?? [];
  const saysFrom = (from: number) => entries().slice(from).filter((e) => e.kind === 'say').map((e) => (e.kind === 'say' ? e.text : ''));

  for (const [index, { step, line: stepLine }] of call.steps.entries()) {
    const fail = (message: string): never => {
      throw new ConversationFailure(`${call.file}:${stepLine ?? call.line ?? 1}: call "${call.name}", step ${index + 1} (${describe(step)}): ${message}`);
    };
    const live = (): SimCall => line ?? fail('no call yet: the first step must be dial');

    /** Waits until the line has answered the last input: it listens again, or the call ended. */
    const settle = async () => {
      const current = live();
      const started = performance.now();
      for (;;) {
        if (entries().slice(inputAt).some((e) => e.kind === 'listening' || e.kind === 'ended')) return;
        // A <Pause> outside a gather waits on a timer; the runner's timers never fire alone, so end it now.
        if (current.listening === null) current.timeoutNow();
        if (performance.now() - started > SETTLE_MS) fail(`the line did not answer within ${SETTLE_MS / 1000} s`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const ended = () => {
      const end = entries().find((e) => e.kind === 'ended');
      return end?.kind === 'ended' ? end.reason : undefined;
    };
    const heardSince = (from: number) => {
      const said = saysFrom(from);
      return said.length === 0 ? 'nothing' : said.map((s) => JSON.stringify(shown(s))).join(', ');
    };
    const input = (act: () => void) => {
      inputAt = entries().length;
      cursor = Math.max(cursor, inputAt);
      act();
    };

    if (typeof step === 'string') {
      switch (step) {
        case 'silence': {
          await settle();
          const current = live();
          if (current.listening === null) fail(`the call is not listening (${ended() ? `it ended: ${ended()}` : 'no open menu'})`);
          input(() => current.timeoutNow());
          break;
        }
        case 'confirm':
        case 'wrong_code': {
          await settle();
          const code = lastSpokenCode(saysFrom(0)) ?? fail(`no code was spoken yet; heard ${heardSince(0)}`);
          const dev = device ?? fail('dial has no customer, so there is no test device to confirm with');
          const wrong = step === 'wrong_code';
          const before = entries().length;
          const status = await postConfirmation(app, dev, wrong ? wrongCode(code) : code);
          if (!wrong && status !== 200) fail(`the app refused the confirmation of the spoken code (${status})`);
          if (wrong && status === 200) fail('the app accepted a wrong code');
          if (!wrong) {
            // The app moves the live call on by itself (calls.update): wait for that redirect, as the caller would.
            const redirected = await waitUntil(() => entries().slice(before).some((e) => e.kind === 'redirect' && e.by === 'api'), SETTLE_MS);
            if (redirected) {
              inputAt = entries().findIndex((e, i) => i >= before && e.kind === 'redirect' && e.by === 'api');
              cursor = Math.max(cursor, inputAt);
            }
          }
          break;
        }
        case 'hang_up':
          await live().hangUp();
          break;
      }
      continue;
    }

    if ('dial' in step) {
      if (line) fail('this call already dialled: start another call');
      customer = step.dial.customer;
      caller = step.dial.caller ?? (customer ? app.mobileOf(customer) : undefined) ?? '+15555550100';
      if (customer) device = await enroll(app, customer);
      line = app.phone.dial({ from: caller, ...(step.dial.number ? { to: step.dial.number } : {}) });
      inputAt = 0;
      cursor = 0;
    } else if ('press' in step) {
      await settle();
      const current = live();
      if (current.listening === null) fail(`nothing is listening for keys (${ended() ? `the call ended: ${ended()}` : 'no open menu'}); heard ${heardSince(cursor)}`);
      input(() => current.press(step.press));
    } else if ('hear' in step) {
      await settle();
      const m = matcher(step.hear);
      const from = cursor;
      const at = entries().findIndex((e, i) => i >= from && e.kind === 'say' && m.test(e.text));
      if (at < 0) fail(`expected to hear ${shown(m.describe)}, heard ${heardSince(from)}${ended() ? ` (the call ended: ${ended()})` : ''}`);
      cursor = at + 1;
    } else if ('not_hear' in step) {
      await settle();
      const m = matcher(step.not_hear);
      const said = saysFrom(cursor).find((s) => m.test(s));
      if (said !== undefined) fail(`expected not to hear ${shown(m.describe)}, but heard ${JSON.stringify(shown(said))}`);
    } else if ('advance' in step) {
      app.advance(parseDuration(step.advance));
    } else if ('sms' in step) {
      await settle();
      const to = step.sms.to === 'customer' ? (customer ? app.mobileOf(customer) : undefined) : step.sms.to === 'caller' ? caller : step.sms.to;
      if (!to) fail(`no mobile on file for customer "${customer ?? ''}"`);
      const m = matcher(step.sms.containing);
      const found = await waitUntil(() => app.phone.inbox().some((msg) => msg.to === to && m.test(msg.body)), SMS_WAIT_MS);
      if (!found) {
        const theirs = app.phone.inbox().filter((msg) => msg.to === to).map((msg) => JSON.stringify(shown(msg.body)));
        fail(`expected an SMS to ${maskNumber(to ?? '')} containing ${m.describe}, got ${theirs.length === 0 ? 'none' : theirs.join(', ')}`);
      }
    } else if ('transfer' in step) {
      await settle();
      const want = step.transfer.verified ? step.transfer.queue : `${step.transfer.queue}-unverified`;
      const transfers = entries().slice(cursor).filter((e) => e.kind === 'transfer');
      if (!transfers.some((e) => e.kind === 'transfer' && e.to === want)) {
        const seen = transfers.map((e) => (e.kind === 'transfer' ? e.to : '')).join(', ');
        fail(`expected a transfer to ${step.transfer.verified ? 'verified' : 'unverified'} queue "${want}", got ${seen || `none (${ended() ? `the call ended: ${ended()}` : 'the call is still in the IVR'}); heard ${heardSince(cursor)}`}`);
      }
    }
  }
  if (line && line.status !== 'completed') await line.hangUp();
}

/** A one-line name for a step in messages. */
function describe(step: Step): string {
  if (typeof step === 'string') return step;
  const [kind, value] = Object.entries(step)[0] ?? ['?', ''];
  return `${kind}: ${typeof value === 'string' ? shown(value) : JSON.stringify(value)}`;
}

function lastSpokenCode(said: readonly string[]): string | undefined {
  for (let i = said.length - 1; i >= 0; i--) {
    const m = SPOKEN_CODE.exec(said[i] ?? '');
    if (m) return m[0].replace(/\D/g, '');
  }
  return undefined;
}

/** Another code of the same length: every digit moved by one. */
const wrongCode = (code: string) => [...code].map((d) => String((Number(d) + 1) % 10)).join('');

const maskNumber = (n: string) => (n.length > 4 ? `…${n.slice(-4)}` : n);

async function enroll(app: ConversationApp, customerId: string): Promise<{ deviceId: string; privateKey: CryptoKey }> {
  const { privateKey, publicJwk } = await makeTestDevice('ES256');
  const { deviceId } = await app.built.deps.devices.enroll({ customerId, publicJwk, label: 'conversation test' });
  return { deviceId, privateKey };
}

/** Signs the code as the customer's authenticator app does (the fake peer of test/support) and posts it. */
async function postConfirmation(app: ConversationApp, device: { deviceId: string; privateKey: CryptoKey }, did: string): Promise<number> {
  const iat = Math.floor(Date.now() / 1000);
  const jws = await signConfirmation({ privateKey: device.privateKey, kid: device.deviceId, did, aud: PUBLIC_BASE_URL, iat, exp: iat + 60, jti: randomUUID() });
  const res = await fetch(`${app.baseUrl}/authenticator/v1/confirmations`, { method: 'POST', headers: { 'content-type': 'application/jose' }, body: jws });
  await res.arrayBuffer();
  return res.status;
}

async function waitUntil(condition: () => boolean, boundMs: number): Promise<boolean> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > boundMs) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
