import type { Bench } from '../lib/context.js';
import { hammer, type HammerResult } from '../lib/hammer.js';

export interface ApiRateFigures {
  /** Requests per second asked for: 80 % of the default API_RATE_LIMIT_PER_CLIENT (1000). */
  targetPerSecond: number;
  calls: number;
  http: HammerResult;
  /** Answers 429: the figure that must be 0. */
  refused: number;
}

/**
 * A contact centre's platform polling many calls at once (DESIGN A5): one API client, `calls`
 * sessions, polls spread over them at `perSecond` (open loop, autocannon `overallRate`) for
 * `seconds`, with the app on its default limits. Every poll must be answered 200; a 429 is a limit
 * sized too small (or counted wrongly) for a real contact centre.
 */
export async function apiPollRate(b: Bench, opts: { perSecond: number; seconds: number; calls: number }): Promise<ApiRateFigures> {
  const auth = `Basic ${Buffer.from(`${b.apiClient.id}:${b.apiClient.secret}`).toString('base64')}`;
  const sessions: string[] = [];
  // Opened in batches below the client's limit per second, so the set-up itself is never refused.
  for (let i = 0; i < opts.calls; i += 200) {
    const batch = Array.from({ length: Math.min(200, opts.calls - i) }, async (_, j) => {
      const res = await fetch(`${b.origin}/api/v1/sessions`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ provider: 'genesys-cloud', callId: `bench-poll-${Date.now()}-${i + j}` }),
      });
      if (res.status !== 201) throw new Error(`session create answered ${res.status}`);
      return ((await res.json()) as { sessionId: string }).sessionId;
    });
    sessions.push(...(await Promise.all(batch)));
    await new Promise((r) => setTimeout(r, 1000));
  }
  let n = 0;
  const http = await hammer({
    origin: b.origin,
    connections: 32,
    method: 'GET',
    overallRate: opts.perSecond,
    seconds: opts.seconds,
    status: 200,
    next: () => {
      const sessionId = sessions[n++ % sessions.length] as string;
      return { path: `/api/v1/sessions/${sessionId}`, body: '', headers: { authorization: auth }, tag: sessionId };
    },
  });
  return { targetPerSecond: opts.perSecond, calls: opts.calls, http, refused: http.statuses['429'] ?? 0 };
}
