import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { CallState } from '../engine/types.js';
import type { Sealer } from '../shared/seal.js';
import { luaScript, type RedisClient } from '../store/client.js';
import { ttl, type Keys } from '../store/keys.js';

/**
 * One caller turn, exactly once (DESIGN A3: the same webhook delivered twice yields the same answer
 * and one side effect), in two store round trips:
 *
 * - `begin` claims the call's answer slot for this delivery and, in the same script, reads the
 *   call's IVR state — or finds this delivery already answered (a retry) and replays the answer;
 * - `commit` stores the new state and the answer together, only while the claim is still ours.
 *
 * A call has one slot per channel (the voice flow; status callbacks), holding the latest delivery
 * only: a telephony platform waits for our answer before it sends the call's next webhook, so a
 * retry can only ever be of the latest one, and a live call keeps one stored answer, not one per
 * webhook. Stored answers are sealed: a turn that speaks the DID must not leave it readable in the
 * store (DIDs are kept only as keyed hashes). Before sealing they are deflated against a preset
 * dictionary of the flows' own prompts (`answerDictionary`): an answer is mostly prompt text, so
 * 500 bytes of TwiML keep as about 60 (the store's bytes per live call are a cost a bank pays).
 */
export type Channel = 'voice' | 'status';

/** What a turn produced: the answer to send, and the call's next IVR state (none for status callbacks). */
export interface TurnOutcome {
  answer: string;
  state?: CallState;
}

/** The slot value is `<digest>\n<sealed answer>`; an empty answer marks the delivery in flight. */
const BEGIN = luaScript(
  'vlTurnBegin',
  2,
  `local v = redis.call('GET', KEYS[1])
if v then
  local sep = string.find(v, '\\n', 1, true)
  if sep and string.sub(v, 1, sep - 1) == ARGV[1] then return {'seen', string.sub(v, sep + 1)} end
end
redis.call('SET', KEYS[1], ARGV[1] .. '\\n', 'PX', ARGV[2])
return {'claimed', redis.call('GET', KEYS[2]) or ''}`,
);

const COMMIT = luaScript(
  'vlTurnCommit',
  2,
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] .. '\\n' then return 0 end
if ARGV[4] ~= '' then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5]) end
redis.call('SET', KEYS[1], ARGV[1] .. '\\n' .. ARGV[2], 'PX', ARGV[3])
return 1`,
);

const ABANDON = luaScript(
  'vlTurnAbandon',
  1,
  `if redis.call('GET', KEYS[1]) == ARGV[1] .. '\\n' then redis.call('DEL', KEYS[1]) end
return 1`,
);

/**
 * A delivery's identity: the platform's idempotency token when it sends one, else the path and
 * every parameter (DESIGN A3: "or the same CallSid + path + parameters").
 */
export function deliveryDigest(path: string, params: Record<string, string>, idempotencyToken?: string): string {
  const h = createHash('sha256');
  if (idempotencyToken) h.update(`token\n${idempotencyToken}`);
  else {
    h.update(`params\n${path}\n`);
    for (const k of Object.keys(params).sort()) h.update(`${k}=${params[k]}\n`);
  }
  return h.digest('base64url');
}

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
   * Runs `produce` once per delivery with the call's current state; returns its answer, the stored
   * answer of a retry, or null when the first delivery is still being answered after `waitMs`.
   */
  async function once(
    callId: string,
    channel: Channel,
    digest: string,
    produce: (state: CallState | null) => Promise<TurnOutcome>,
  ): Promise<string | null> {
    const slot = keys.turnSlot(callId, channel);
    const stateKey = keys.ivrState(callId);
    const context = `${callId}\n${digest}`;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const [kind, value] = (await BEGIN(redis, [slot, stateKey], [digest, ttl.webhookInFlightMs])) as ['seen' | 'claimed', string];
      if (kind === 'seen') {
        if (value !== '') return unpack(value, context);
        // The first delivery is still being answered: wait for its answer rather than run twice.
        if (Date.now() >= deadline) return null;
        await new Promise((r) => setTimeout(r, pollMs));
        continue;
      }
      let outcome: TurnOutcome;
      try {
        outcome = await produce(value === '' ? null : (JSON.parse(value) as CallState));
      } catch (err) {
        // Let a retry try again rather than replaying a failure.
        await ABANDON(redis, [slot], [digest]).catch(() => undefined);
        throw err;
      }
      const state = outcome.state ? JSON.stringify(outcome.state) : '';
      // 0 means a newer delivery took the slot meanwhile (the call was redirected): its state stands.
      await COMMIT(redis, [slot, stateKey], [digest, pack(outcome.answer, context), ttl.webhookAnswerMs, state, ttl.callMs]);
      return outcome.answer;
    }
  }

  return { once };
}

export type Turns = ReturnType<typeof createTurns>;
