import { describe, expect, it } from 'vitest';
import { computeLowRisk, lowRiskOf } from '../src/flows/low-risk.js';
import { loadFlows } from '../src/flows/load.js';
import type { Flow } from '../src/flows/schema.js';
import { FIXTURE_FLOWS_DIR } from './support/flows.js';

/** DESIGN A10: the nodes from which no protected action is reachable without passing a verify gate. */
const flows = loadFlows(FIXTURE_FLOWS_DIR);
const main = flows.main;

describe('the low-risk node set (FAIL_MODE=open-low-risk)', () => {
  it('when the default flow is loaded, then the welcome, the main menu and its transfer and goodbye branches are low-risk, and the gates and actions are not', () => {
    expect([...(lowRiskOf(flows).get('main') ?? [])].sort()).toEqual(['agent', 'agent-unverified', 'goodbye', 'main-menu', 'technical-difficulty', 'welcome']);
  });

  it('when a say node sits behind a gate in front of a protected action, then it is not low-risk, though the menu that leads to the gate still is', () => {
    const nodes = {
      ...main.nodes,
      'balance-gate': { ...main.nodes['balance-gate'], next: 'verified-say' },
      'verified-say': { kind: 'say', prompt: 'welcome', next: 'balance' },
    } as Flow['nodes'];
    const set = computeLowRisk({ byId: new Map([['main', { ...main, nodes }]]) }).get('main');
    expect(set?.has('verified-say')).toBe(false);
    expect(set?.has('main-menu')).toBe(true);
  });

  it('when a node redirects into another flow, then it is low-risk only if where it lands is', () => {
    const other: Flow = { ...main, id: 'other' };
    const nodes = {
      ...main.nodes,
      'to-menu': { kind: 'redirect', flow: 'other', node: 'main-menu' },
      'to-balance': { kind: 'redirect', flow: 'other', node: 'balance' },
    } as Flow['nodes'];
    const set = computeLowRisk({ byId: new Map([['main', { ...main, nodes }], ['other', other]]) }).get('main');
    expect(set?.has('to-menu')).toBe(true);
    expect(set?.has('to-balance')).toBe(false);
  });
});
