import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { actionsTable, withActionsTable } from '../src/flows/action-docs.js';
import { ACTION_NAMES } from '../src/ivr/action-registry.js';

describe('the flow authors guide', () => {
  it('when an action is added to the registry, then docs/flows.md must list it with its prompts (npm run flows -- docs)', () => {
    const doc = readFileSync('docs/flows.md', 'utf8');
    expect(withActionsTable(doc), 'docs/flows.md actions table is stale: run npm run flows -- docs').toBe(doc);
    for (const name of ACTION_NAMES) expect(actionsTable()).toContain(`| \`${name}\` |`);
  });
});
