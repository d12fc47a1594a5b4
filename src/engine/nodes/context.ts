import type { Flow, FlowNode, Kind, NodeOf } from '../../flows/schema.js';
import type { CallState, Effect, EngineInput, Output, Wait } from '../types.js';

/** What node handlers share: how they answer, and the one error the pure engine throws. */

export type EngineErrorCode =
  | 'unknown_flow'
  | 'unknown_node'
  | 'unexpected_input'
  | 'missing_prompt'
  | 'missing_param'
  | 'too_many_hops';

/**
 * A call reached a state the flows cannot handle (stale state after a deploy, a driver feeding the
 * wrong input, a backend naming an unknown prompt). The driver answers safe TwiML. Messages name
 * nodes and input kinds only, never a DID or a parameter value.
 */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Where a handler sends the call: another node (the engine enters it), an effect, or the end of the turn. */
export type Move = { kind: 'goto'; node?: string; flowId?: string } | { kind: 'effect'; effect: Effect } | Wait;

export interface Turn {
  outputs: Output[];
  state: CallState;
  move: Move;
}

export interface NodeContext<N extends FlowNode = FlowNode> {
  readonly id: string;
  readonly node: N;
  readonly flow: Flow;
  readonly state: CallState;
  /** A prompt of the flow rendered in the call's locale. */
  say(key: string, params?: Readonly<Record<string, string>>): Output;
}

/** Input once the engine has dealt with `start`. */
export type NodeInput = Exclude<EngineInput, { kind: 'start' }>;

export interface Handler<N extends FlowNode> {
  /** The call arrives at the node. */
  enter(ctx: NodeContext<N>): Turn;
  /** The node is current and something came back: keys, a timeout, a resume, or an effect's result. */
  input(ctx: NodeContext<N>, input: NodeInput): Turn;
}

/** One handler per kind: adding a kind to the schema does not compile until it is handled here. */
export type Handlers = { [K in Kind]: Handler<NodeOf<K>> };

export const goto = (state: CallState, node: string, outputs: Output[] = []): Turn => ({
  outputs,
  state,
  move: { kind: 'goto', node },
});

export const effect = (state: CallState, e: Effect, outputs: Output[] = []): Turn => ({
  outputs,
  state,
  move: { kind: 'effect', effect: e },
});

export const wait = (state: CallState, w: Wait, outputs: Output[] = []): Turn => ({ outputs, state, move: w });

export const gather = (timeoutSeconds: number): Wait => ({ kind: 'gather', numDigits: 1, timeoutSeconds });

export function unexpected(ctx: NodeContext, input: NodeInput): never {
  const what = input.kind === 'effect' ? `effect result "${input.result.kind}"` : `input "${input.kind}"`;
  const phase = ctx.state.phase === undefined ? '' : ` (phase ${ctx.state.phase})`;
  throw new EngineError('unexpected_input', `node "${ctx.id}" (${ctx.node.kind})${phase} cannot take ${what}`);
}

/**
 * For nodes that never rest waiting for keys (say and redirect move on, transfer and hangup end the call):
 * input there is a late webhook (e.g. a resume after a transfer), and doing the node again is harmless.
 * An effect result, though, means the driver is confused.
 */
export const again =
  <N extends FlowNode>(enter: (ctx: NodeContext<N>) => Turn) =>
  (ctx: NodeContext<N>, input: NodeInput): Turn =>
    input.kind === 'effect' ? unexpected(ctx, input) : enter(ctx);
