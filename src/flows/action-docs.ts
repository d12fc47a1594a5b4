import { ACTION_NAMES, actionOf } from '../ivr/action-registry.js';

/** The actions table of docs/flows.md, from the registry, between these markers. */
export const ACTIONS_TABLE_START = '<!-- actions: generated from src/ivr/action-registry.ts; test/flows-docs.test.ts checks it -->';
export const ACTIONS_TABLE_END = '<!-- /actions -->';

export function actionsTable(indent = '  '): string {
  const rows = ACTION_NAMES.map((name) => {
    const a = actionOf(name);
    const prompts = Object.values(a.prompts)
      .map((p) => `\`${p.key}\` (${p.params.length === 0 ? 'none' : p.params.map((x) => `\`{${x}}\``).join(', ')})`)
      .join(', ');
    return `| \`${name}\` | ${a.protected ? 'yes' : 'no'} | ${a.summary} | ${prompts} |`;
  });
  return [ACTIONS_TABLE_START, '| action | protected | what it does | prompt keys (placeholders) |', '| --- | --- | --- | --- |', ...rows, ACTIONS_TABLE_END]
    .map((l) => indent + l)
    .join('\n');
}

/** `doc` with its actions table replaced by the current one; unchanged when it has no markers. */
export function withActionsTable(doc: string): string {
  const start = doc.indexOf(ACTIONS_TABLE_START);
  const end = doc.indexOf(ACTIONS_TABLE_END);
  if (start < 0 || end < start) return doc;
  const lineStart = doc.lastIndexOf('\n', start) + 1;
  return doc.slice(0, lineStart) + actionsTable(doc.slice(lineStart, start)) + doc.slice(end + ACTIONS_TABLE_END.length);
}
