import type twilio from 'twilio';
import { E164, SmsFailedError, type SmsSender } from '../sms.js';

/** Only the Messages resource is used; the client comes from `createTwilioClient` (TWILIO_API_BASE_URL). */
type MessagesClient = Pick<ReturnType<typeof twilio>, 'messages'>;

const MESSAGING_SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;

/**
 * Statement SMS through Twilio's Messages API. TWILIO_SMS_FROM is either a sender (an E.164 number,
 * a short code) or a Messaging Service SID (`MG…`), which lets Twilio pick the sender from a pool.
 * No retry: a send that timed out may still have been delivered, and a second text is worse.
 */
export function createTwilioSmsSender(client: MessagesClient, options: { from: string }): SmsSender {
  const from = options.from.trim();
  if (!from) throw new Error('TWILIO_SMS_FROM: a sender number or a Messaging Service SID is required');
  const sender = MESSAGING_SERVICE_SID.test(from) ? { messagingServiceSid: from } : { from };

  return {
    async send({ to, body }) {
      if (!E164.test(to)) throw new SmsFailedError('invalid_recipient');
      try {
        const message = await client.messages.create({ to, body, ...sender });
        return { sid: message.sid };
      } catch (err) {
        // The SDK's RestException message can quote the number; keep only its status and code.
        const e = err as { status?: unknown; code?: unknown };
        if (typeof e.status !== 'number') throw new SmsFailedError('network');
        const code = typeof e.code === 'number' || typeof e.code === 'string' ? e.code : undefined;
        throw new SmsFailedError(e.status >= 500 || e.status === 429 ? 'provider_error' : 'rejected', e.status, code);
      }
    },
  };
}
