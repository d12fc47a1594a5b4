import type { Audit } from '../audit/audit.js';
import type { Metrics } from '../audit/metrics.js';
import type { Engine } from '../engine/engine.js';
import type { CallState, EngineInput, Output, StepResult } from '../engine/types.js';
import { isLowRisk, lowRiskOf } from '../flows/low-risk.js';
import type { Flows } from '../flows/schema.js';
import type { Clock } from '../shared/clock.js';
import { isReadOnlyError } from '../store/client.js';
import type { Turn } from './driver.js';
import { createSealer } from '../shared/seal.js';
import { createStatelessState, type StatelessState } from './stateless-state.js';

/**
 * DESIGN A10 `FAIL_MODE=open-low-risk`: one caller turn served without the store. The engine runs
 * from the state the call's URL carried (stateless-state.ts) for as long as the call stays on
 * low-risk nodes (flows/low-risk.ts); the only effects it may ask for are the clock and a language
 * choice. Anything else — a verify gate, an action, a node outside the set, a call whose state we do
 * not have — ends the IVR's part: the apology and the agent queue, unverified, with no code spoken
 * and no session opened. Nothing here touches the store: each turn's events go to the audit trail
 * directly (`recordDirect`), and each counts in `vaultline_degraded_turns_total`.
 */

/** Why the store failed the turn, as the `degraded` event's `reason`. */
export type DegradedReason = 'store_unavailable' | 'store_readonly' | 'store_timeout';

export function degradedReason(err: unknown): DegradedReason {
  if (isReadOnlyError(err)) return 'store_readonly';
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (/Command timed out/i.test(e.message)) return 'store_timeout';
  }
  return 'store_unavailable';
}

export interface DegradedTurn extends Turn {
  /** True when the caller stays in self-service; false when the turn sends them to the agent queue. */
  selfService: boolean;
}

export interface DegradedDeps {
  engine: Pick<Engine, 'start' | 'step' | 'failClosedSpeech'>;
  /** The flows the engine runs now (a development reload changes them). */
  flows: () => Pick<Flows, 'byId'>;
  state: StatelessState;
  audit: Pick<Audit, 'recordDirect'>;
  metrics: Pick<Metrics, 'degradedTurns'>;
  clock: Clock;
}

/** A runaway flow is a bug; the same bound as the driver's. */
const MAX_STEPS_PER_TURN = 32;
/** The event's `node` field is a short name; a longer node id is cut rather than dropping the event. */
const nodeName = (node: string) => node.slice(0, 64);

export function createDegradedMode(deps: DegradedDeps) {
  const { engine, audit, metrics } = deps;
  const lowRisk = (state: CallState) => isLowRisk(lowRiskOf(deps.flows()), state.flowId, state.node);

  /** The IVR's part ends: the apology and the agent queue, unverified (nothing of the step is said). */
  const toAgent = (callId: string, state: CallState | null, reason: DegradedReason): DegradedTurn => {
    const speech = engine.failClosedSpeech(state?.locale);
    // Without a state (a turn whose URL carried none) there is no node to name.
    audit.recordDirect('degraded', { callId, reason, ...(state ? { node: nodeName(state.node) } : {}) });
    metrics.degradedTurns.inc({ outcome: 'agent' });
    const outputs: Output[] = [{ kind: 'say', text: speech.text, locale: speech.locale }];
    const after: CallState = { flowId: state?.flowId ?? 'main', node: state?.node ?? '', locale: speech.locale, turn: state?.turn ?? 0, attempts: 0, verified: false };
    return { outputs, wait: { kind: 'transfer', queue: speech.queue, verified: false }, state: after, selfService: false };
  };

  return {
    /** Whether a state may be carried in the call's next URL (only low-risk ones are). */
    carries: (state: CallState): boolean => lowRisk(state),
    state: deps.state,

    /**
     * One turn without the store. `from` is the state the URL carried (null when it carried none:
     * only a new call can start from nothing).
     */
    turn(callId: string, from: CallState | null, input: EngineInput, reason: DegradedReason): DegradedTurn {
      let result: StepResult;
      if (input.kind === 'start' && from === null) result = engine.start(input.locale, input.dialled);
      else if (from === null || !lowRisk(from)) return toAgent(callId, from, reason);
      else result = engine.step({ ...from, verified: false }, input.kind === 'start' ? { kind: 'resume' } : input);
      const outputs = [...result.outputs];
      for (let i = 0; result.next.kind === 'effect'; i++) {
        const { effect } = result.next;
        if (i >= MAX_STEPS_PER_TURN) throw new Error(`flow ran ${MAX_STEPS_PER_TURN} effects without ending the turn`);
        if (effect.kind === 'clock.now') {
          result = engine.step(result.state, { kind: 'effect', result: { kind: 'clock', now: deps.clock.now() } });
        } else if (effect.kind === 'locale.select') {
          audit.recordDirect('language_selected', { callId, locale: effect.locale, via: effect.via });
          result = engine.step(result.state, { kind: 'effect', result: { kind: 'locale.selected' } });
        } else {
          // A gate or an action: the store's work, so the agent's.
          return toAgent(callId, result.state, reason);
        }
        outputs.push(...result.outputs);
      }
      if (!lowRisk(result.state)) return toAgent(callId, result.state, reason);
      const wait = result.next.kind === 'transfer' ? { ...result.next, verified: false } : result.next;
      audit.recordDirect('degraded', { callId, reason, node: nodeName(result.state.node) });
      metrics.degradedTurns.inc({ outcome: 'self_service' });
      return { outputs, wait, state: result.state, selfService: true };
    },
  };
}

export type DegradedMode = ReturnType<typeof createDegradedMode>;

/**
 * The composition root's one line for degraded mode: built only with `FAIL_MODE=open-low-risk`
 * (`closed` changes nothing), its states sealed under their own key from DATA_SECRET.
 */
export function degradedModeFor(
  config: { failMode: 'closed' | 'open-low-risk'; dataSecret: Buffer },
  deps: Omit<DegradedDeps, 'state'>,
): DegradedMode | undefined {
  if (config.failMode !== 'open-low-risk') return undefined;
  return createDegradedMode({ ...deps, state: createStatelessState({ sealer: createSealer(config.dataSecret, 'degraded-state'), clock: deps.clock }) });
}
