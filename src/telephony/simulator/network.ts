import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Router } from 'express';
import twilio from 'twilio';
import { createSimCall, realTimers, type SimCall, type Timers, type WebhookSender } from './call.js';
import { createSimulatorRestApi } from './rest-api.js';

export interface PhoneNetworkOptions {
  accountSid: string;
  /** Signs every webhook (`X-Twilio-Signature`) and checks REST credentials, like Twilio. */
  authToken: string;
  /** PUBLIC_BASE_URL: the absolute URLs the app hands out and signs against. */
  publicBaseUrl: string;
  /** Where requests for those URLs are actually sent: the app's local listen address. */
  appBaseUrl: string;
  voicePath?: string;
  statusCallbackPath?: string;
  /** The number callers dial. */
  ivrNumber?: string;
  timers?: Timers;
  now?: () => number;
  /** Twilio gives up on a webhook after 15 s. */
  requestTimeoutMs?: number;
  /** Ended calls kept for the console and clients to read. */
  keepCalls?: number;
}

export interface InboxMessage {
  seq: number;
  sid: string;
  to: string;
  from: string;
  body: string;
  at: string;
}

export class WebhookUrlError extends Error {
  override readonly name = 'WebhookUrlError';
}

/**
 * An in-process, Twilio-compatible phone network for development and tests (never production): it
 * places calls into the app's real `/twilio/*` webhooks with valid signatures and Twilio's standard
 * parameters, plays the TwiML, and answers the REST subset the app calls (call redirect, SMS).
 */
export function createPhoneNetwork(opts: PhoneNetworkOptions) {
  const publicBase = opts.publicBaseUrl.replace(/\/+$/, '');
  const appBase = opts.appBaseUrl.replace(/\/+$/, '');
  const now = opts.now ?? Date.now;
  const keep = opts.keepCalls ?? 50;
  const calls = new Map<string, SimCall>();
  const inbox: InboxMessage[] = [];
  const events = new EventEmitter();

  const pathOf = (url: string): string => {
    const rest = url.slice(publicBase.length);
    // Only URLs under PUBLIC_BASE_URL reach the app; anything else is not ours to fetch.
    if (!url.startsWith(publicBase) || !(rest === '' || rest.startsWith('/') || rest.startsWith('?'))) {
      throw new WebhookUrlError(`not under PUBLIC_BASE_URL: ${url.split('?')[0] ?? ''}`);
    }
    return rest || '/';
  };

  const webhooks: WebhookSender = {
    pathOf: (url) => {
      try {
        return pathOf(url).split('?')[0] ?? '/';
      } catch {
        return url.split('?')[0] ?? url;
      }
    },
    async send(url, method, params) {
      const get = method === 'GET';
      // For GET, Twilio puts the parameters in the query and signs the whole URL with no body.
      const signedUrl = get ? `${url}${url.includes('?') ? '&' : '?'}${new URLSearchParams(params).toString()}` : url;
      const signature = twilio.getExpectedTwilioSignature(opts.authToken, signedUrl, get ? {} : params);
      const res = await fetch(appBase + pathOf(signedUrl), {
        method: get ? 'GET' : 'POST',
        headers: {
          'x-twilio-signature': signature,
          'i-twilio-idempotency-token': randomUUID(),
          'user-agent': 'TwilioProxy/1.1 (Vaultline phone simulator)',
          ...(get ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
        },
        ...(get ? {} : { body: new URLSearchParams(params).toString() }),
        redirect: 'manual',
        signal: AbortSignal.timeout(opts.requestTimeoutMs ?? 15_000),
      });
      return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
    },
  };

  function forget() {
    // Keep the newest `keep` calls; live calls are never dropped.
    for (const [sid, call] of calls) {
      if (calls.size <= keep) break;
      if (call.status === 'completed') calls.delete(sid);
    }
  }

  /** Places a call into the app (POST to the voice URL) and returns it at once; follow it on `call.events`. */
  function dial(options: { from?: string; to?: string } = {}): SimCall {
    const call = createSimCall({
      callSid: 'CA' + randomBytes(16).toString('hex'),
      accountSid: opts.accountSid,
      from: options.from ?? '+15555550100',
      to: options.to ?? opts.ivrNumber ?? '+18005550199',
      voiceUrl: publicBase + (opts.voicePath ?? '/twilio/voice'),
      statusCallbackUrl: publicBase + (opts.statusCallbackPath ?? '/twilio/status'),
      webhooks,
      timers: opts.timers ?? realTimers,
      now,
    });
    calls.set(call.callSid, call);
    forget();
    events.emit('call', call);
    call.start();
    return call;
  }

  const restApi = createSimulatorRestApi({
    accountSid: opts.accountSid,
    authToken: opts.authToken,
    target: {
      updateCall(callSid, update) {
        const call = calls.get(callSid);
        if (!call) return 'not-found';
        if (call.status === 'completed') return 'not-in-progress';
        if (update.status === 'completed' || update.status === 'canceled') void call.endByApi();
        else if (update.twiml) call.playTwiml(update.twiml);
        else if (update.url) call.redirect(update.url, update.method);
        return 'updated';
      },
      callStatus: (callSid) => calls.get(callSid)?.status,
      deliverSms({ to, from, body }) {
        const msg: InboxMessage = { seq: inbox.length + 1, sid: 'SM' + randomBytes(16).toString('hex'), to, from, body, at: new Date(now()).toISOString() };
        inbox.push(msg);
        events.emit('message', msg);
        return { sid: msg.sid };
      },
    },
  });

  return {
    dial,
    call: (callSid: string): SimCall | undefined => calls.get(callSid),
    calls: (): SimCall[] => [...calls.values()],
    /** Every SMS the app sent, oldest first (statement links arrive here). */
    inbox: (): readonly InboxMessage[] => inbox,
    /** 'call' (SimCall) when one is placed, 'message' (InboxMessage) when an SMS arrives. */
    events,
    /** Twilio REST subset; mount it where TWILIO_API_BASE_URL points. */
    restApi: restApi as Router,
    /** Hangs up every live call (each sends its status callback). */
    async close(): Promise<void> {
      await Promise.all([...calls.values()].filter((c) => c.status !== 'completed').map((c) => c.hangUp()));
    },
  };
}

export type PhoneNetwork = ReturnType<typeof createPhoneNetwork>;
