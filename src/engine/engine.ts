import type { Flow, FlowNode, Flows } from '../flows/schema.js';
import { EngineError, type Handler, type NodeContext, type NodeInput, type Turn } from './nodes/context.js';
import { handlers } from './nodes/index.js';
import { SELECTING, selecting } from './nodes/select-locale.js';
import { MissingParamError, pickLocale, renderPrompt } from './prompts.js';
import type { CallState, EngineInput, Locale, Output, StepResult } from './types.js';

export { EngineError, type EngineErrorCode } from './nodes/context.js';

/**
 * The IVR engine: pure functions of (flows, state, input). No I/O, no clock, no randomness, so a whole
 * call can be replayed from its inputs and every branch is a table-driven unit test.
 */
export interface Engine {
  /**
   * A new call: the first turn of the main flow, in `locale` when the flow has it. A `dialled` number
   * listed in the main flow's `numbers` starts in that flow and/or locale instead.
   */
  start(locale?: Locale, dialled?: string): StepResult;
  /** The next step of a call from its saved state. `start` input begins a new call. */
  step(state: CallState, input: EngineInput): StepResult;
  /**
   * The main flow's `failClosed` apology and queue, for the webhooks' error answer (DESIGN B3); the
   * transfer is always unverified. Read once at start-up so a broken prompt fails there, not mid-call.
   */
  failClosedSpeech(locale?: Locale): FailClosedSpeech;
}

export interface FailClosedSpeech {
  text: string;
  locale: Locale;
  queue: string;
}

/**
 * Say-only chains are rejected at load, but redirects between flows could still cycle; a call that
 * moves this many nodes without waiting is a bug, not a conversation.
 */
const MAX_HOPS = 64;

export function createEngine(flows: Flows): Engine {
  const flowOf = (id: string): Flow => {
    const flow = flows.byId.get(id);
    if (!flow) throw new EngineError('unknown_flow', `no flow "${id}"`);
    return flow;
  };

  const context = (state: CallState): NodeContext => {
    const flow = flowOf(state.flowId);
    const node = flow.nodes[state.node];
    if (!node) throw new EngineError('unknown_node', `flow "${flow.id}" has no node "${state.node}"`);
    return { id: state.node, node, flow, state, say: (key, params) => say(flow, state.locale, key, params) };
  };

  // The cast pairs the node with its own kind's handler; TypeScript cannot correlate the union by itself.
  const handlerOf = (node: FlowNode) => handlers[node.kind] as Handler<FlowNode>;
  const enter = (state: CallState): Turn => {
    const ctx = context(state);
    return handlerOf(ctx.node).enter(ctx);
  };
  const handle = (state: CallState, input: NodeInput): Turn => {
    const ctx = context(state);
    return handlerOf(ctx.node).input(ctx, input);
  };

  /** Follows gotos until an effect or a wait; a wait ends the caller's turn. */
  const run = (first: Turn): StepResult => {
    const outputs: Output[] = [...first.outputs];
    let { state, move } = first;
    for (let hops = 0; move.kind === 'goto'; hops++) {
      if (hops >= MAX_HOPS) throw new EngineError('too_many_hops', `more than ${MAX_HOPS} nodes without waiting (at "${state.node}")`);
      const turn = enter(arrive(state, move.flowId, move.node));
      outputs.push(...turn.outputs);
      ({ state, move } = turn);
    }
    if (move.kind === 'effect') return { outputs, state, next: move };
    return { outputs, state: { ...state, turn: state.turn + 1 }, next: move };
  };

  /**
   * Node-local bookkeeping goes when the call moves: attempts, phase, the gate's counters and the chosen
   * account (so it can never leak into a later action, possibly after another customer verified).
   */
  const arrive = (state: CallState, flowId = state.flowId, node?: string): CallState => {
    const { phase: _phase, verify: _verify, accountIndex: _index, accountCount: _count, periods: _periods, ...kept } = state;
    const flow = flowOf(flowId);
    const locale = flowId === state.flowId ? state.locale : pickLocale(flow.locales, state.locale);
    return { ...kept, flowId, node: node ?? flow.start, locale, attempts: 0 };
  };

  const start = (locale?: Locale, dialled?: string): StepResult => {
    const { main } = flows;
    const route = dialled === undefined || !main.numbers || !Object.hasOwn(main.numbers, dialled) ? undefined : main.numbers[dialled];
    const flow = route?.flow === undefined ? main : flowOf(route.flow);
    const state: CallState = {
      flowId: flow.id,
      node: flow.start,
      locale: pickLocale(flow.locales, route?.locale ?? locale),
      turn: 0,
      attempts: 0,
      verified: false,
    };
    if (route?.locale === undefined) return run(enter(state));
    // The number chose the language: recorded (language_selected) before the first word is said.
    return { outputs: [], state: selecting(state, flow.start), next: { kind: 'effect', effect: { kind: 'locale.select', locale: state.locale, via: 'number' } } };
  };

  /** A recorded language choice is the one effect any node may ask for: go on to where it was headed. */
  const afterSelect = (state: CallState): StepResult | undefined => {
    const target = state.phase?.startsWith(SELECTING) ? state.phase.slice(SELECTING.length) : undefined;
    return target === undefined ? undefined : run({ outputs: [], state, move: { kind: 'goto', node: target } });
  };

  const failClosedSpeech = (wanted?: Locale): FailClosedSpeech => {
    const { main } = flows;
    const node = main.failClosed === undefined ? undefined : main.nodes[main.failClosed];
    if (node?.kind !== 'transfer' || node.prompt === undefined) {
      throw new EngineError('unknown_node', `flow "${main.id}" has no failClosed transfer node`);
    }
    const locale = pickLocale(main.locales, wanted);
    return { text: say(main, locale, node.prompt).text, locale, queue: node.queue };
  };

  return {
    start,
    failClosedSpeech,
    step(state, input) {
      if (input.kind === 'start') return start(input.locale, input.dialled);
      if (input.kind === 'effect' && input.result.kind === 'locale.selected') {
        const next = afterSelect(state);
        if (next) return next;
      }
      return run(handle(state, input));
    },
  };
}

type Said = Extract<Output, { kind: 'say' }>;

function say(flow: Flow, locale: Locale, key: string, params?: Readonly<Record<string, string>>): Said {
  const text = flow.prompts[locale]?.[key];
  if (text === undefined) throw new EngineError('missing_prompt', `flow "${flow.id}" has no prompt "${key}" in ${locale}`);
  try {
    return { kind: 'say', text: renderPrompt(text, params), locale };
  } catch (err) {
    if (err instanceof MissingParamError) {
      throw new EngineError('missing_param', `prompt "${key}" of flow "${flow.id}" needs {${err.param}}`, { cause: err });
    }
    throw err;
  }
}
