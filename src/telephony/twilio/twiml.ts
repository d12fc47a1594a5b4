import twilio from 'twilio';
import type { Output, Wait } from '../../engine/types.js';

const { VoiceResponse } = twilio.twiml;
type SayLanguage = Parameters<InstanceType<typeof VoiceResponse>['say']>[0] extends infer A
  ? A extends { language?: infer L } ? L : never
  : never;

/** Queue name for a transfer; unverified callers are tagged so agents know to verify by other means. */
export function queueName(wait: Extract<Wait, { kind: 'transfer' }>): string {
  return wait.verified ? wait.queue : `${wait.queue}-unverified`;
}

/**
 * Engine outputs + how the turn ends → TwiML. Prompts go inside <Gather> so a caller who knows
 * the menu can press a key without waiting; `actionOnEmptyResult` makes silence come back to us
 * as an empty `Digits` (a no-input turn) instead of falling through.
 */
export function renderTwiml(outputs: readonly Output[], wait: Wait, actionUrl: string): string {
  const response = new VoiceResponse();
  const speak = (target: { say: InstanceType<typeof VoiceResponse>['say']; pause: InstanceType<typeof VoiceResponse>['pause'] }) => {
    for (const o of outputs) {
      if (o.kind === 'say') target.say({ language: o.locale as SayLanguage }, o.text);
      else target.pause({ length: o.seconds });
    }
  };
  switch (wait.kind) {
    case 'gather': {
      const gather = response.gather({
        input: ['dtmf'],
        numDigits: wait.numDigits,
        timeout: wait.timeoutSeconds,
        action: actionUrl,
        method: 'POST',
        actionOnEmptyResult: true,
      });
      speak(gather);
      break;
    }
    case 'transfer':
      speak(response);
      response.enqueue(queueName(wait));
      break;
    case 'hangup':
      speak(response);
      response.hangup();
      break;
  }
  return response.toString();
}

/** Safe TwiML for when something failed: an apology and the agent queue, tagged unverified. */
export function failClosedTwiml(text: string, locale: string, queue: string): string {
  const response = new VoiceResponse();
  response.say({ language: locale as SayLanguage }, text);
  response.enqueue(`${queue}-unverified`);
  return response.toString();
}

export function emptyTwiml(): string {
  return new VoiceResponse().toString();
}

/** Sends the call to fetch a fresh answer (used when a duplicate arrives while the first is still being answered). */
export function redirectTwiml(url: string, pauseSeconds = 1): string {
  const response = new VoiceResponse();
  response.pause({ length: pauseSeconds });
  response.redirect({ method: 'POST' }, url);
  return response.toString();
}
