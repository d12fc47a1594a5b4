import type { InboxMessage } from '../../src/telephony/simulator/network.js';
import type { Listening, SimCallStatus, TranscriptEntry } from '../../src/telephony/simulator/types.js';

export type Entry = TranscriptEntry;
export interface CallUpdate {
  status: SimCallStatus;
  listening: Listening | null;
  entries: Entry[];
}

export class DevApiError extends Error {
  override readonly name = 'DevApiError';
}

/** The `/dev/api` endpoints of a running `npm start` (development only) that drive its phone simulator. */
export function createDevClient(baseUrl: string) {
  const base = baseUrl.replace(/\/+$/, '');
  async function call<T>(path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${base}/dev/api${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
    } catch {
      throw new DevApiError(`Cannot reach the IVR at ${base}: is \`npm start\` running? (use --url to point elsewhere)`);
    }
    if (res.status === 404 && path === '/messages?after=0') {
      throw new DevApiError(`${base} has no dev console: the simulator runs only in development (NODE_ENV is not production).`);
    }
    const json = (await res.json().catch(() => ({}))) as { message?: string };
    if (!res.ok) throw new DevApiError(`${path.split('?')[0]}: ${json.message ?? `HTTP ${res.status}`}`);
    return json as T;
  }
  return {
    baseUrl: base,
    /** The newest SMS so far, so a call shows only what arrives during it. */
    inboxSeq: async () => (await call<{ messages: InboxMessage[] }>('/messages?after=0')).messages.at(-1)?.seq ?? 0,
    dial: (from?: string) => call<{ callSid: string }>('/calls', from ? { from } : {}),
    update: (callSid: string, after: number) => call<CallUpdate>(`/calls/${callSid}?after=${after}`),
    messages: async (after: number) => (await call<{ messages: InboxMessage[] }>(`/messages?after=${after}`)).messages,
    press: (callSid: string, keys: string) => call<{ heard: boolean }>(`/calls/${callSid}/keys`, { keys }),
    silence: (callSid: string) => call<{ timedOut: boolean }>(`/calls/${callSid}/silence`, {}),
    hangUp: (callSid: string) => call<{ status: string }>(`/calls/${callSid}/hangup`, {}),
  };
}
