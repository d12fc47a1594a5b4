import { checkFlowTargets, checkSayCycles, checkTargets } from './graph.js';
import { checkNodeChoices, checkNumbers } from './language-checks.js';
import { FIXES, type FlowProblem, type FlowProblemCode } from './problems.js';
import { checkLocales, checkPlaceholdersAgree, checkPrompts } from './prompt-checks.js';
import type { Flow } from './schema.js';
import { checkGuarded, withGates } from './verify-gates.js';

/**
 * Semantic checks a schema cannot express: every target exists (graph.ts), every prompt exists in every
 * locale with the placeholders the engine fills (prompt-checks.ts), and no protected action can be reached
 * without a verify node (verify-gates.ts). This file runs them in order and collects their problems.
 */

export interface CheckOptions {
  /** Other flows, for `redirect` targets. Without it, only redirects to this flow are checked. */
  flowById?: (id: string) => Flow | undefined;
  /** Nodes other flows redirect into: entry points besides `start` for the verify-gate search. */
  extraEntries?: readonly string[];
  /** Flows that may exist but could not be read (their own problem is reported): redirects to them are not. */
  mayExist?: (flowId: string) => boolean;
}

/** Checks one parsed flow; returns it with the `gate` of each action filled in, plus the problems found. */
export function checkFlow(flow: Flow, file: string, opts: CheckOptions = {}): { flow: Flow; problems: FlowProblem[] } {
  const problems: FlowProblem[] = [];
  const add = (code: FlowProblemCode, message: string, node?: string, path?: readonly string[], fix?: string) =>
    problems.push({ code, file, node, message, fix: fix ?? FIXES[code], path: path ?? (node === undefined ? [] : ['nodes', node]) });

  // The order of the checks is the order of the problems in the FlowError: keep it stable for flow authors.
  checkLocales(flow, add);
  checkFlowTargets(flow, add);
  checkNumbers(flow, opts.flowById, add);
  for (const [id, node] of Object.entries(flow.nodes)) {
    checkTargets(flow, id, node, opts.flowById, add, opts.mayExist);
    checkNodeChoices(flow, id, node, add);
  }
  checkPrompts(flow, add);
  checkPlaceholdersAgree(flow, add);
  checkSayCycles(flow, add);
  // The graph checks assume every target exists; report dangling ones first.
  if (problems.some((p) => p.code === 'dangling_target')) return { flow, problems };

  checkGuarded(flow, [flow.start, ...(opts.extraEntries ?? [])], add);
  return { flow: withGates(flow, add), problems };
}
