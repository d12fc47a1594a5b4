import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { FlowError, type FlowProblem } from './problems.js';
import { flowSchema, NODE_KINDS, type Flow, type Flows } from './schema.js';
import { checkFlow, type CheckOptions } from './validate.js';

export { FlowError, formatProblem, type FlowProblem, type FlowProblemCode } from './problems.js';

const FLOW_FILE = /\.(ya?ml|json)$/i;

/**
 * Reads every flow file in `dir`, validates each and the links between them, and returns them frozen.
 * Throws one FlowError listing every problem, each naming its file and node. Run once at start-up.
 */
export function loadFlows(dir: string): Flows {
  const problems: FlowProblem[] = [];
  const parsed: { file: string; flow: Flow }[] = [];
  const files = listFlowFiles(dir);
  let unreadable = false;

  for (const name of files) {
    const full = path.join(dir, name);
    const file = displayName(full);
    const raw = readFlowFile(full, file, problems);
    const result = raw === undefined ? undefined : parseFlow(raw, file);
    if (result === undefined || 'problems' in result) {
      unreadable = true;
      problems.push(...(result?.problems ?? []));
    } else {
      parsed.push({ file, flow: result.flow });
    }
  }

  const byId = new Map<string, Flow>();
  const fileOf = new Map<string, string>();
  for (const { file, flow } of parsed) {
    const other = fileOf.get(flow.id);
    if (other !== undefined) {
      problems.push({ code: 'duplicate_flow', file, message: `flow id "${flow.id}" is already used by ${other}` });
      continue;
    }
    fileOf.set(flow.id, file);
    byId.set(flow.id, flow);
  }

  // Nodes other flows redirect into are entry points too: a protected action behind one still needs a gate.
  const entries = new Map<string, string[]>();
  for (const flow of byId.values()) {
    for (const node of Object.values(flow.nodes)) {
      if (node.kind === 'redirect' && node.node !== undefined) {
        entries.set(node.flow, [...(entries.get(node.flow) ?? []), node.node]);
      }
    }
  }
  const checked = new Map<string, Flow>();
  for (const [id, flow] of byId) {
    const result = checkFlow(flow, fileOf.get(id) ?? id, { flowById: (f) => byId.get(f), extraEntries: entries.get(id) });
    problems.push(...result.problems);
    checked.set(id, deepFreeze(result.flow));
  }

  const main = checked.get('main');
  // When a file could not be read, it may be the main flow: its own problem says more than this would.
  if (!main && !unreadable) {
    problems.push({ code: 'missing_main', file: displayName(dir), message: 'no flow has id "main" (the entry of every call)' });
  }
  if (main && main.failClosed === undefined) {
    problems.push({ code: 'missing_main', file: fileOf.get('main') ?? 'main', message: 'the main flow must set failClosed (the apology and agent transfer used when something fails)' });
  }
  if (problems.length > 0 || !main) throw new FlowError(problems);
  return { main, byId: checked };
}

/**
 * Validates one flow object (already parsed from YAML/JSON) and returns it with defaults and computed
 * gates filled in. Throws a FlowError naming `fileName` and the node.
 */
export function validateFlow(raw: unknown, fileName: string, opts: CheckOptions = {}): Flow {
  const result = parseFlow(raw, fileName);
  if ('problems' in result) throw new FlowError(result.problems);
  const checked = checkFlow(result.flow, fileName, opts);
  if (checked.problems.length > 0) throw new FlowError(checked.problems);
  return deepFreeze(checked.flow);
}

function parseFlow(raw: unknown, file: string): { flow: Flow } | { problems: FlowProblem[] } {
  const result = flowSchema.safeParse(raw);
  if (result.success) return { flow: result.data };
  return { problems: result.error.issues.map((issue) => describeIssue(issue, raw, file)) };
}

/** Turns a zod issue into "node "x": field: message", with the unknown-kind case spelled out. */
function describeIssue(issue: z.core.$ZodIssue, raw: unknown, file: string): FlowProblem {
  const [top, nodeId, ...rest] = issue.path.map(String);
  if (top !== 'nodes' || nodeId === undefined) {
    return { code: 'schema', file, message: `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}` };
  }
  if (issue.code === 'invalid_union' && rest.join('.') === 'kind') {
    const kind = kindOf(raw, nodeId);
    const message =
      kind === undefined
        ? `missing kind (one of ${NODE_KINDS.join(', ')})`
        : `unknown kind ${JSON.stringify(kind)} (one of ${NODE_KINDS.join(', ')})`;
    return { code: 'unknown_kind', file, node: nodeId, message };
  }
  const code = rest.join('.') === 'action' && issue.code === 'invalid_value' ? 'unknown_action' : 'schema';
  return { code, file, node: nodeId, message: `${rest.length > 0 ? `${rest.join('.')}: ` : ''}${issue.message}` };
}

function kindOf(raw: unknown, nodeId: string): unknown {
  if (!isObject(raw) || !isObject(raw.nodes)) return undefined;
  const node = raw.nodes[nodeId];
  return isObject(node) ? node.kind : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function listFlowFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => FLOW_FILE.test(f))
      .sort();
  } catch (err) {
    const problem: FlowProblem = { code: 'parse', file: displayName(dir), message: `cannot read the flows folder: ${String(err)}` };
    throw new FlowError([problem], { cause: err });
  }
}

function readFlowFile(full: string, file: string, problems: FlowProblem[]): unknown {
  try {
    const text = readFileSync(full, 'utf8');
    return /\.json$/i.test(full) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    problems.push({ code: 'parse', file, message: err instanceof Error ? err.message : String(err) });
    return undefined;
  }
}

/** Relative to the working directory when inside it, so messages read `flows/main.yaml`. */
function displayName(full: string): string {
  const rel = path.relative(process.cwd(), full);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? full : rel;
}

// Flows are shared by every call; freezing makes an accidental write from the engine throw instead of leaking.
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
