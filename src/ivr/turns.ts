import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { CallState } from '../engine/types.js';
import type { Sealer } from '../shared/seal.js';
import type { RedisClient } from '../store/client.js';
import { ttl, type Keys } from '../store/keys.js';
import { defineScript, reply } from '../store/lua.js';

/**
 * One caller turn, exactly once and only while it is the call's current turn (DESIGN A3), in two
 * store round trips:
 *
 * - `begin` finds this delivery already answered (a retry: its answer is replayed), or checks that
 *   the delivery is for the call's current turn and only then claims the call's answer slot and
 *   reads the call's IVR state — all in one script;
 * - `commit` stores the new state and the answer together, only while the claim is still ours.
 *
 * A delivery is its CallSid, path and parameters (`deliveryDigest`); Twilio's
 * `I-Twilio-Idempotency-Token` is not signed, so it never makes two different requests one, and a
 * byte-identical request without it (or with another one) is the same delivery.
 *
 * A delivery that is neither a retry nor for the current turn (a stale `action` URL: a captured
 * request replayed after newer turns) is `stale`: the script changes nothing — not the slot, so the
 * latest delivery's retry still gets its answer, nor the state — and the webhook answers with a
 * redirect to the current turn that speaks nothing. What a delivery is bound to (`Binding`): the
 * call's first webhook to a call with no state; a `?t=N` URL to turn N; the intercept's URL to the
 * verify gate whose session it confirmed. A call the store holds no state for takes any delivery as
 * its start, as before (a store that lost a live call's state must not strand the caller).
 *
 * A call has one slot per channel (the voice flow; status callbacks), holding the latest delivery
 * only: a telephony platform waits for our answer before it sends the call's next webhook, so a
 * retry can only ever be of the latest one, and a live call keeps one stored answer, not one per
 * webhook. Stored answers are sealed: a turn that speaks the DID must not leave it readable in the
 * store (DIDs are kept only as keyed hashes). Before sealing they are deflated against a preset
 * dictionary of the flows' own prompts (`answerDictionary`): an answer is mostly prompt text, so
 * 500 bytes of TwiML keep as about 60 (the store's bytes per live call are a cost a bank pays).
 *
 * The state is stored as `<turn> <gate session id>\n<CallState JSON>`: the head is what the begin
 * script compares a delivery's binding with (Lua has no JSON decoder on the embedded store).
 */
export type Channel = 'voice' | 'status';

/** Which turn of the call a delivery belongs to. */
export type Binding =
  /** The call's first webhook: current only while the call has no state. */
  | { kind: 'new' }
  /** An `action`/`Redirect` URL we built for turn `turn` (NaN when the URL's `t` is not a number). */
  | { kind: 'turn'; turn: number }
  /** The live-call intercept after a confirmation: current while the call waits at that session's gate. */
  | { kind: 'gate'; sessionId: string }
  /** Status callbacks: idempotent by themselves, bound to no turn. */
  | { kind: 'any' };

/** What a turn produced: the answer to send, and the call's next IVR state (none for status callbacks). */
export interface TurnOutcome {
  answer: string;
  state?: CallState;
}

export type OnceResult =
  /** This delivery's answer: just produced, or stored (a retry). */
  | { kind: 'answer'; answer: string }
  /** The first delivery is still being answered after the wait; `turn` is the call's turn before it. */
  | { kind: 'busy'; turn: number }
  /** Not a retry, not for the current turn: nothing ran. `turn` is the call's current turn. */
  | { kind: 'stale'; turn: number };

/** The slot value is `<digest>\n<sealed answer>`; an empty answer marks the delivery in flight (see turn-begin.lua). */
const beginScript = defineScript({
  file: 'turn-begin',
  keys: ['slot', 'state'],
  args: ['digest', 'inFlightMs', 'bindKind', 'bindValue'],
  decode(raw) {
    const [word, value, turn] = reply.array(raw, 'turn-begin');
    return { kind: reply.oneOf(word, ['seen', 'stale', 'claimed'], 'turn-begin'), value: reply.string(value), turn: reply.string(turn) };
  },
});

/** Stores the state and the answer together, only while the slot still holds our claim. */
const commitScript = defineScript({
  file: 'turn-commit',
  keys: ['slot', 'state'],
  args: ['digest', 'sealedAnswer', 'answerMs', 'state', 'stateMs'],
  decode: (raw) => reply.number(raw) === 1,
});

const abandonScript = defineScript({ file: 'turn-abandon', keys: ['slot'], args: ['digest'], decode: () => undefined });

/**
 * A delivery's identity: CallSid (a parameter), path with query, and every parameter (DESIGN A3). The
 * idempotency token is deliberately not part of it: it is unsigned, so anyone replaying a request
 * can change it, and a genuine retry repeats the request byte for byte anyway.
 */
export function deliveryDigest(path: string, params: Record<string, string>): string {
  const h = createHash('sha256');
  h.update(`params\n${path}\n`);
  for (const k of Object.keys(params).sort()) h.update(`${k}=${params[k]}\n`);
  return h.digest('base64url');
}

const bindingArgs = (b: Binding): [string, string] => {
  switch (b.kind) {
    case 'new':
    case 'any':
      return [b.kind, ''];
    case 'turn':
      return ['turn', Number.isSafeInteger(b.turn) ? String(b.turn) : ''];
    case 'gate':
      return ['gate', b.sessionId];
  }
};

const encodeState = (state: CallState): string => `${state.turn} ${state.verify?.sessionId ?? ''}\n${JSON.stringify(state)}`;

/** zlib looks back 32 KB; a smaller dictionary is cheaper to load on every answer and holds the prompts. */
const DICTIONARY_MAX = 8 * 1024;
const TWIML_SKELETON =
  '<?xml version="1.0" encoding="UTF-8"?><Response><Gather input="dtmf" numDigits="1" timeout="6" action="/twilio/step?t=" method="POST" actionOnEmptyResult="true"><Say language="en-US"></Say><Pause length="1"/></Gather><Enqueue>-unverified</Enqueue><Hangup/></Response>';

/** A deflate dictionary for answers: the TwiML skeleton and the given texts (the flows' prompts). */
export function answerDictionary(texts: Iterable<string>): Buffer {
  const all = Buffer.from([...texts].join('\n') + TWIML_SKELETON);
  // Deflate prefers what is nearest the end of a dictionary; the skeleton is in every answer.
  return all.length > DICTIONARY_MAX ? all.subarray(all.length - DICTIONARY_MAX) : all;
}

export function createTurns(deps: { redis: RedisClient; keys: Keys; sealer: Sealer; dictionary?: Buffer; waitMs?: number; pollMs?: number }) {
  const { redis, keys, sealer } = deps;
  const dictionary = deps.dictionary ?? answerDictionary([]);
  const pack = (answer: string, context: string) => sealer.seal(deflateRawSync(answer, { dictionary }), context);
  const unpack = (stored: string, context: string) => inflateRawSync(sealer.unsealBytes(stored, context), { dictionary }).toString('utf8');
  const waitMs = deps.waitMs ?? 3000;
  const pollMs = deps.pollMs ?? 25;

  /**
   * Runs `produce` once per delivery with the call's current state, when the delivery is for the
   * call's current turn (`binding`); a retry gets the stored answer, a stale delivery nothing.
   */
  async function once(
    callId: string,
    channel: Channel,
    digest: string,
    binding: Binding,
    produce: (state: CallState | null) => Promise<TurnOutcome>,
  ): Promise<OnceResult> {
    const slot = keys.turnSlot(callId, channel);
    const stateKey = keys.ivrState(callId);
    const context = `${callId}\n${digest}`;
    const [bindKind, bindValue] = bindingArgs(binding);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const { kind, value, turn: turnText } = await beginScript(redis, { slot, state: stateKey }, { digest, inFlightMs: ttl.webhookInFlightMs, bindKind, bindValue });
      const turn = turnText === '' ? 0 : Number(turnText);
      if (kind === 'stale') return { kind: 'stale', turn };
      if (kind === 'seen') {
        if (value !== '') return { kind: 'answer', answer: unpack(value, context) };
        // The first delivery is still being answered: wait for its answer rather than run twice.
        if (Date.now() >= deadline) return { kind: 'busy', turn };
        await new Promise((r) => setTimeout(r, pollMs));
        continue;
      }
      let outcome: TurnOutcome;
      try {
        outcome = await produce(value === '' ? null : (JSON.parse(value) as CallState));
      } catch (err) {
        // Let a retry try again rather than replaying a failure.
        await abandonScript(redis, { slot }, { digest }).catch(() => undefined);
        throw err;
      }
      const state = outcome.state ? encodeState(outcome.state) : '';
      // 0 means a newer delivery took the slot meanwhile (the call was redirected): its state stands.
      await commitScript(redis, { slot, state: stateKey }, { digest, sealedAnswer: pack(outcome.answer, context), answerMs: ttl.webhookAnswerMs, state, stateMs: ttl.callMs });
      return { kind: 'answer', answer: outcome.answer };
    }
  }

  /**
   * Writes a state the call's own URLs carried while the store was away (FAIL_MODE=open-low-risk,
   * stateless-state.ts) back as the call's state, when the store's is behind it (the turns served
   * meanwhile) or gone (a store restarted empty): the call's next turn is an ordinary one again.
   */
  async function adopt(callId: string, state: CallState): Promise<void> {
    await redis.set(keys.ivrState(callId), encodeState(state), 'PX', ttl.callMs);
  }

  return { once, adopt };
}

export type Turns = ReturnType<typeof createTurns>;
