import { z } from 'zod';
import type { CallState } from '../engine/types.js';
import type { Clock } from '../shared/clock.js';
import type { Sealer } from '../shared/seal.js';
import { ttl } from '../store/keys.js';

/**
 * DESIGN A10, B3: a call's IVR state carried in its own `action`/`Redirect` URLs, for the turns served
 * while the store is away (FAIL_MODE=open-low-risk). Format and reasons: docs/decisions/0018-stateless-degraded-state.md.
 *
 * Only the low-risk part of a state is ever carried: where the call is (flow, node), its language,
 * its turn and the node's attempt count. Never `verified`, a session, an account or a month: a state
 * read back from a URL is always an unverified caller, so nothing protected can follow from it.
 *
 * It is sealed (AES-256-GCM under a key derived from DATA_SECRET for this purpose alone) with the
 * CallSid, the route and the turn as associated data: it can be neither read nor edited, and it opens
 * only on the call, the route and the turn it was made for, so a state moved to another call, another
 * path or another `t` is refused (403, like a bad signature). A replay of a genuine URL can only
 * repeat the low-risk step it was made for; `i` (when it was sealed) bounds how long it can be.
 */
const VERSION = 'v1';

const carried = z.strictObject({
  f: z.string().min(1).max(64),
  n: z.string().min(1).max(64),
  l: z.string().min(2).max(16),
  a: z.number().int().min(0).max(100),
  i: z.number().int().min(0),
});

/** A sealed state in a URL: base64url, and far below any URL limit (about 150 characters). */
const SEALED = /^[A-Za-z0-9_-]{40,512}$/;

export interface StatelessState {
  /** The query value that carries `state` on `route` (`/step`, `/resume`) of `callId`. */
  seal(callId: string, route: string, state: CallState): string;
  /**
   * The state a URL carries, or undefined when it is not one we sealed for this call, route and turn
   * (tampered, foreign, truncated) or is older than a call can last.
   */
  open(callId: string, route: string, turn: number, sealed: string): CallState | undefined;
}

export function createStatelessState(deps: { sealer: Sealer; clock: Clock; maxAgeMs?: number }): StatelessState {
  const { sealer, clock } = deps;
  const maxAgeMs = deps.maxAgeMs ?? ttl.callMs;
  const context = (callId: string, route: string, turn: number) => `${VERSION}\n${callId}\n${route}\n${turn}`;
  return {
    seal(callId, route, state) {
      const body = { f: state.flowId, n: state.node, l: state.locale, a: state.attempts, i: clock.now() };
      return sealer.seal(JSON.stringify(body), context(callId, route, state.turn));
    },
    open(callId, route, turn, sealed) {
      if (!SEALED.test(sealed) || !Number.isSafeInteger(turn)) return undefined;
      let body: z.infer<typeof carried>;
      try {
        body = carried.parse(JSON.parse(sealer.unseal(sealed, context(callId, route, turn))));
      } catch {
        // A failed tag, bad JSON or a wrong shape are one answer: not ours.
        return undefined;
      }
      const age = clock.now() - body.i;
      if (age > maxAgeMs) return undefined;
      return { flowId: body.f, node: body.n, locale: body.l, turn, attempts: body.a, verified: false };
    },
  };
}
