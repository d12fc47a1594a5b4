/**
 * `npm run flows -- <command>`: the flow author's tools, none of which starts the app.
 *
 *   npm run flows -- check [dir] [--json]   validate flows/ (or dir) with the start-up checks; exit 1 on any problem
 *   npm run flows -- docs                   rewrite the actions table of docs/flows.md from the action registry
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { withActionsTable } from '../src/flows/action-docs.js';
import { FlowError, formatProblem, loadFlows, type FlowProblem } from '../src/flows/load.js';

const USAGE = `usage: npm run flows -- <command>
  check [dir] [--json]   validate the flows in dir (default flows/) as start-up does; exit 1 on any problem
  docs                   rewrite the actions table of docs/flows.md from src/ivr/action-registry.ts`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
});
const [command, ...args] = positionals;

function check(dir = 'flows'): number {
  let problems: readonly FlowProblem[] = [];
  try {
    loadFlows(dir);
  } catch (err) {
    if (!(err instanceof FlowError)) throw err;
    problems = err.problems;
  }
  if (values.json) console.log(JSON.stringify({ ok: problems.length === 0, problems }, null, 2));
  else if (problems.length === 0) console.log(`${dir}: every flow is valid`);
  else console.error(`${problems.map(formatProblem).join('\n')}\n${problems.length} problem${problems.length === 1 ? '' : 's'} in ${dir}`);
  return problems.length === 0 ? 0 : 1;
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
const commands: Record<string, () => number> = { check: () => check(args[0]), docs };
const run = commands[command];
if (!run) {
  console.error(`unknown command "${command}"\n${USAGE}`);
  process.exit(2);
}
process.exitCode = run();
