/**
 * `npm run flows -- <command>`: the flow author's tools, none of which starts the app.
 *
 *   npm run flows -- check [dir] [--json]   validate flows/ (or dir) with the start-up checks; exit 1 on any problem
 *   npm run flows -- diagram [flow] [--dir flows] [--out docs/flows]   write a Mermaid flowchart per flow to docs/flows/<id>.md
 *   npm run flows -- test [dir]             run the conversation tests dir/tests/*.yaml (default flows/) on the real app
 *   npm run flows -- schema                 write docs/flow.schema.json (editor completion) from the zod schema
 *   npm run flows -- docs                   rewrite the actions table of docs/flows.md from the action registry
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startConversationApp } from './lib/conversations/app.js';
import { ConversationFailure, runCall } from './lib/conversations/run.js';
import { listConversationFiles, readConversationFile } from './lib/conversations/spec.js';
import { withActionsTable } from '../src/flows/action-docs.js';
import { flowDiagramPage } from '../src/flows/diagram.js';
import { FLOW_JSON_SCHEMA_FILE, flowJsonSchema } from '../src/flows/json-schema.js';
import { checkFlowsDir, formatProblem } from '../src/flows/load.js';
import { lowRiskOf } from '../src/flows/low-risk.js';

const USAGE = `usage: npm run flows -- <command>
  check [dir] [--json]   validate the flows in dir (default flows/) as start-up does; exit 1 on any problem
  diagram [flow]         write a Mermaid flowchart of each flow (or one) to docs/flows/<id>.md (--dir, --out)
  test [dir]             run the conversation tests in dir/tests/*.yaml against the real app on the built-in simulator
  schema                 write docs/flow.schema.json (the JSON Schema editors complete flow files with)
  docs                   rewrite the actions table of docs/flows.md from src/ivr/action-registry.ts`;

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        dir: { type: 'string', default: 'flows' },
        out: { type: 'string', default: 'docs/flows' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    // A mistyped option is one line, not a stack trace.
    console.error(`flows: ${err instanceof Error ? err.message : String(err)} (see --help)`);
    process.exit(2);
  }
})();
const [command, ...args] = positionals;

function check(dir = 'flows'): number {
  const { problems, flows } = checkFlowsDir(dir);
  // DESIGN A10: what a caller keeps while the store is away (FAIL_MODE=open-low-risk), per flow.
  const lowRisk = flows ? Object.fromEntries([...lowRiskOf(flows)].map(([id, nodes]) => [id, [...nodes]])) : undefined;
  if (values.json) console.log(JSON.stringify({ ok: problems.length === 0, problems, ...(lowRisk ? { lowRisk } : {}) }, null, 2));
  else if (problems.length === 0) {
    console.log(`${dir}: every flow is valid`);
    for (const [id, nodes] of Object.entries(lowRisk ?? {})) {
      console.log(`low-risk in flow ${id} (served while the store is away, FAIL_MODE=open-low-risk): ${nodes.length > 0 ? nodes.join(', ') : 'none'}`);
    }
  } else console.error(`${problems.map(formatProblem).join('\n')}\n${problems.length} problem${problems.length === 1 ? '' : 's'} in ${dir}`);
  return problems.length === 0 ? 0 : 1;
}

function diagram(only?: string): number {
  const { problems, flows } = checkFlowsDir(values.dir);
  if (!flows) {
    console.error(`${problems.map(formatProblem).join('\n')}\nfix the flows first (npm run flows -- check ${values.dir})`);
    return 1;
  }
  const chosen = only === undefined ? [...flows.byId.values()] : [flows.byId.get(only)].filter((f) => f !== undefined);
  if (chosen.length === 0) {
    console.error(`no flow has id "${only}" (flows: ${[...flows.byId.keys()].join(', ')})`);
    return 1;
  }
  mkdirSync(values.out, { recursive: true });
  for (const flow of chosen) {
    const file = path.join(values.out, `${flow.id}.md`);
    writeFileSync(file, flowDiagramPage(flow, flows));
    console.log(`${file}: flow "${flow.id}" (${Object.keys(flow.nodes).length} nodes)`);
  }
  return 0;
}

async function test(dir = 'flows'): Promise<number> {
  const files = listConversationFiles(path.join(dir, 'tests'));
  if (files.length === 0) {
    console.error(`${dir}/tests: no conversation tests (*.yaml)`);
    return 1;
  }
  let failed = 0;
  let passed = 0;
  for (const file of files) {
    const calls = readConversationFile(file);
    const app = await startConversationApp({ flowsDir: dir });
    try {
      for (const call of calls) {
        try {
          await runCall(app, call);
          passed++;
          console.log(`  ok    ${call.name}`);
        } catch (err) {
          if (!(err instanceof ConversationFailure)) throw err;
          failed++;
          console.log(`  FAIL  ${call.name}\n        ${err.message}`);
        }
      }
    } finally {
      await app.close();
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

function schema(): number {
  writeFileSync(FLOW_JSON_SCHEMA_FILE, flowJsonSchema());
  console.log(`${FLOW_JSON_SCHEMA_FILE}: written`);
  return 0;
}

function docs(): number {
  const file = 'docs/flows.md';
  const before = readFileSync(file, 'utf8');
  const after = withActionsTable(before);
  if (after !== before) writeFileSync(file, after);
  console.log(after === before ? `${file}: the actions table is current` : `${file}: actions table rewritten`);
  return 0;
}

if (values.help || command === undefined) {
  console.log(USAGE);
  process.exit(command === undefined && !values.help ? 2 : 0);
}
const commands: Record<string, () => number | Promise<number>> = {
  check: () => check(args[0]),
  diagram: () => diagram(args[0]),
  test: () => test(args[0]),
  schema,
  docs,
};
const run = commands[command];
if (!run) {
  console.error(`unknown command "${command}"\n${USAGE}`);
  process.exit(2);
}
process.exitCode = await run();
