import type { CallState, EngineInput, Output, StepResult, Wait } from '../engine/types.js';
import type { CallRef, Effects } from './effects.js';

export interface Engine {
  start(locale?: string, dialled?: string): StepResult;
  step(state: CallState, input: EngineInput): StepResult;
}

export interface Turn {
  outputs: Output[];
  wait: Wait;
  state: CallState;
}

/** A runaway flow (effects feeding effects) is a bug; stop rather than loop forever. */
const MAX_STEPS_PER_TURN = 32;

/**
 * Drives the pure engine for one caller turn: runs each effect it asks for and feeds the result
 * back until the engine ends the turn. Provider-neutral: Twilio webhooks and the simulator both
 * come through here. The call's state comes in and goes out with the turn; loading and saving it
 * (together with the answer, exactly once per delivery) is `turns.ts`'s job.
 */
export function createIvrDriver(deps: { engine: Engine; effects: Effects }) {
  const { engine, effects } = deps;

  async function drive(call: CallRef, first: StepResult): Promise<Turn> {
    const outputs: Output[] = [...first.outputs];
    let result = first;
    for (let i = 0; result.next.kind === 'effect'; i++) {
      if (i >= MAX_STEPS_PER_TURN) throw new Error(`flow ran ${MAX_STEPS_PER_TURN} effects without ending the turn`);
      const effectResult = await effects(call, result.state, result.next.effect);
      result = engine.step(result.state, { kind: 'effect', result: effectResult });
      outputs.push(...result.outputs);
    }
    return { outputs, wait: result.next, state: result.state };
  }

  return {
    /**
     * A new call enters the main flow (or the flow and locale its dialled number is routed to). A
     * repeated start of a known call resumes it instead.
     */
    async start(call: CallRef, state: CallState | null, opts: { locale?: string; dialled?: string } = {}): Promise<Turn> {
      if (state) return drive(call, engine.step(state, { kind: 'resume' }));
      return drive(call, engine.start(opts.locale, opts.dialled));
    },
    /** The caller's input (digits, silence) or a backend redirect (resume). */
    async input(call: CallRef, state: CallState | null, input: EngineInput): Promise<Turn> {
      if (!state) return drive(call, engine.start());
      return drive(call, engine.step(state, input));
    },
  };
}

export type IvrDriver = ReturnType<typeof createIvrDriver>;
