import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { FIXES, FlowError, type FlowProblem } from './problems.js';
import { parseFlowSource, type FlowSource } from './source.js';
import { flowSchema, NODE_KINDS, type Flow, type Flows } from './schema.js';
import { checkCatalogue } from './prompt-checks.js';
import { checkFlow, type CheckOptions } from './validate.js';

export { FlowError, formatProblem, type FlowProblem, type FlowProblemCode } from './problems.js';

const FLOW_FILE = /\.(ya?ml|json)$/i;

/**
 * Reads every flow file in `dir`, validates each and the links between them, and returns them frozen.
 * Throws one FlowError listing every problem, each naming its file and node. Run once at start-up.
 */
export function loadFlows(dir: string): Flows {
  return readFlows(dir).flows;
}

/**
 * What `npm run flows -- check` and start-up share: every problem of the folder (each with its line),
 * and the flows when there is none. Throws only when the folder itself cannot be read.
 */
export function checkFlowsDir(dir: string): { problems: FlowProblem[]; flows?: Flows } {
  try {
    const { flows } = readFlows(dir);
    return { problems: [], flows };
  } catch (err) {
    if (err instanceof FlowError) return { problems: [...err.problems] };
    throw err;
  }
}

function readFlows(dir: string): { flows: Flows } {
  const problems: FlowProblem[] = [];
  const parsed: { file: string; flow: Flow; source: FlowSource }[] = [];
  const files = listFlowFiles(dir);
  let unreadable = false;
  // Ids of flows whose file is broken: a redirect into one is not reported again (no cascade).
  const brokenIds = new Set<string>();
  const sourceOf = new Map<string, FlowSource>();

  for (const name of files) {
    const full = path.join(dir, name);
    const file = displayName(full);
    const source = readFlowFile(full, file, problems);
    if (source === undefined) {
      unreadable = true;
      continue;
    }
    sourceOf.set(file, source);
    const result = parseFlow(source.raw, file);
    if ('problems' in result) {
      const id = isObject(source.raw) ? source.raw.id : undefined;
      if (typeof id === 'string') brokenIds.add(id);
      else unreadable = true;
      problems.push(...result.problems);
    } else {
      parsed.push({ file, flow: result.flow, source });
    }
  }

  const byId = new Map<string, Flow>();
  const fileOf = new Map<string, string>();
  for (const { file, flow } of parsed) {
    const other = fileOf.get(flow.id);
    if (other !== undefined) {
      problems.push({ code: 'duplicate_flow', file, path: ['id'], message: `flow id "${flow.id}" is already used by ${other}`, fix: FIXES.duplicate_flow });
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
  const mayExist = (id: string) => unreadable || brokenIds.has(id);
  const checked = new Map<string, Flow>();
  for (const [id, flow] of byId) {
    const result = checkFlow(flow, fileOf.get(id) ?? id, { flowById: (f) => byId.get(f), extraEntries: entries.get(id), mayExist });
    problems.push(...result.problems);
    checked.set(id, deepFreeze(result.flow));
  }

  const main = checked.get('main');
  // When a file could not be read, it may be the main flow: its own problem says more than this would.
  if (!main && !mayExist('main')) {
    problems.push({ code: 'missing_main', file: displayName(dir), message: 'no flow has id "main" (the entry of every call)', fix: 'give the entry flow the id "main"' });
  }
  if (main) {
    const file = fileOf.get('main') ?? 'main';
    // The main flow is also the catalogue of the backend's words (src/engine/catalogue.ts).
    checkCatalogue(main, (code, message, node, at, fix) => problems.push({ code, file, node, message, fix: fix ?? FIXES[code], path: at ?? [] }));
  }
  if (main && main.failClosed === undefined) {
    problems.push({
      code: 'missing_main',
      file: fileOf.get('main') ?? 'main',
      path: ['id'],
      message: 'the main flow must set failClosed (the apology and agent transfer used when something fails)',
      fix: 'add "failClosed: <a transfer node with a prompt>" to the main flow',
    });
  }
  for (const p of problems) {
    const line = p.line ?? (p.path === undefined ? undefined : sourceOf.get(p.file)?.lineOf(p.path));
    if (line !== undefined) p.line = line;
  }
  // In file order, then line order: the order an author fixes them in.
  const order = new Map(files.map((f, i) => [displayName(path.join(dir, f)), i]));
  problems.sort((a, b) => (order.get(a.file) ?? -1) - (order.get(b.file) ?? -1) || (a.line ?? 0) - (b.line ?? 0));
  if (problems.length > 0 || !main) throw new FlowError(problems);
  return { flows: { main, byId: checked } };
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

/** Turns a zod issue into "node "x": field: message", with the unknown kind, action and menu key spelled out. */
function describeIssue(issue: z.core.$ZodIssue, raw: unknown, file: string): FlowProblem {
  const where = issue.path.map(String);
  // An unknown field's line is the field's own, not its object's.
  const fieldPath = issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...where, issue.keys[0]] : where;
  const [top, nodeId, ...rest] = where;
  if (top !== 'nodes' || nodeId === undefined) {
    return { code: 'schema', file, path: fieldPath, message: `${where.length > 0 ? `${where.join('.')}: ` : ''}${issue.message}`, fix: FIXES.schema };
  }
  const base = { file, node: nodeId, path: fieldPath };
  const field = rest.join('.');
  if (issue.code === 'invalid_union' && field === 'kind') {
    const kind = kindOf(raw, nodeId);
    const message =
      kind === undefined
        ? `missing kind (one of ${NODE_KINDS.join(', ')})`
        : `unknown kind ${JSON.stringify(kind)} (one of ${NODE_KINDS.join(', ')})`;
    return { ...base, code: 'unknown_kind', message, fix: kind === undefined ? 'add "kind:" with one of the kinds listed' : FIXES.unknown_kind };
  }
  if (field === 'action' && issue.code === 'invalid_value') {
    return { ...base, code: 'unknown_action', message: `action: ${issue.message}`, fix: FIXES.unknown_action };
  }
  if (issue.code === 'invalid_key' && rest[0] === 'options' && rest[1] !== undefined) {
    return {
      ...base,
      code: 'menu_key',
      message: `options: "${rest[1]}" is not a keypad key (the keys are 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, "*" and "#")`,
      fix: FIXES.menu_key,
    };
  }
  return { ...base, code: 'schema', message: `${rest.length > 0 ? `${field}: ` : ''}${issue.message}`, fix: FIXES.schema };
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
    const problem: FlowProblem = { code: 'parse', file: displayName(dir), message: `cannot read the flows folder: ${String(err)}`, fix: 'set FLOWS_DIR to the folder of the flow files' };
    throw new FlowError([problem], { cause: err });
  }
}

function readFlowFile(full: string, file: string, problems: FlowProblem[]): FlowSource | undefined {
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    problems.push({ code: 'parse', file, message: err instanceof Error ? err.message : String(err), fix: 'make the file readable' });
    return undefined;
  }
  const source = parseFlowSource(text);
  if (source.errors.length === 0) return source;
  for (const e of source.errors) problems.push({ code: 'parse', file, line: e.line, ...(e.node === undefined ? {} : { node: e.node }), message: e.message, fix: FIXES.parse });
  return undefined;
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
