import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlowError, loadFlows, validateFlow, type FlowProblem } from '../src/flows/load.js';

/** Issue 15 items 4, 5, 7: what the validator says about languages, numbers, hours, account types and the catalogue. */

const FILE = 'flows/main.yaml';

const words = (tag: string) => ({
  menu: `${tag} menu`, 'menu.no_input': `${tag} nothing`, 'menu.invalid': `${tag} no`,
  'verify.code': `${tag} code is {code}`, 'verify.reissued': `${tag} new code is {code}`, 'verify.waiting': `${tag} waiting`,
  'verify.options': `${tag} 1 9 0`, 'verify.confirmed': `${tag} ok`, 'verify.canceled': `${tag} canceled`, 'verify.invalid': `${tag} no`,
  'balance.result': `${tag} {last4} {amount}`, 'balance.unavailable': `${tag} none`, 'account.none': `${tag} no savings`,
  'api.code': `${tag} code is {code}`, 'api.waiting': `${tag} waiting`, 'statement.sms': `${tag} {month} {url} {minutes}`,
  agent: `${tag} agent`, closed: `${tag} closed`,
});

function fixture() {
  return {
    id: 'main',
    locales: ['en-US', 'es-US'],
    start: 'menu',
    failClosed: 'agent',
    nodes: {
      menu: { kind: 'menu', prompt: 'menu', options: { 1: { next: 'gate' }, 0: { next: 'hours' }, 9: { next: 'menu', locale: 'es-US' } }, onExhausted: 'agent' },
      gate: { kind: 'verify', next: 'savings', onFail: 'agent' },
      savings: { kind: 'action', action: 'balance', types: ['savings'] },
      hours: { kind: 'hours', timeZone: 'Europe/Madrid', weekly: { mon: '09:00-14:00', fri: ['09:00-13:00', '15:00-18:00'] }, open: 'agent', closed: 'closed' },
      closed: { kind: 'say', prompt: 'closed', next: 'menu' },
      agent: { kind: 'transfer', prompt: 'agent', queue: 'agents' },
    } as Record<string, Record<string, unknown>>,
    prompts: { 'en-US': words('en') as Record<string, string>, 'es-US': words('es') as Record<string, string> },
  } as Record<string, unknown> & { nodes: Record<string, Record<string, unknown>>; prompts: Record<string, Record<string, string>> };
}

function problemsOf(run: () => unknown): readonly FlowProblem[] {
  try {
    run();
  } catch (err) {
    if (err instanceof FlowError) return err.problems;
    throw err;
  }
  throw new Error('expected the flows to be rejected');
}

function dirWith(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vl-flows-lang-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), JSON.stringify(content));
  return dir;
}

describe('languages, numbers, hours and account types in a flow', () => {
  it('when the fixture is untouched, then it is valid: a locale option, an hours node and a savings-only action', () => {
    const flow = validateFlow(fixture(), FILE);
    expect(flow.nodes.hours).toMatchObject({ kind: 'hours', holidays: [], weekly: { mon: [{ from: 540, to: 840 }] } });
    expect(flow.nodes.savings).toMatchObject({ types: ['savings'], prompts: { none: 'account.none' } });
  });

  it.each([
    ['a menu option names a locale the flow does not list', (f: ReturnType<typeof fixture>) => { f.nodes.menu = { ...f.nodes.menu, options: { 9: { next: 'menu', locale: 'fr-CA' } } }; }, 'menu', /node "menu": options\.9\.locale "fr-CA" is not one of this flow's locales \(en-US, es-US\)/],
    ['an hours node names a time zone that does not exist', (f: ReturnType<typeof fixture>) => { f.nodes.hours = { ...f.nodes.hours, timeZone: 'Europe/Madird' }; }, 'hours', /node "hours": timeZone: an IANA time zone/],
    ['opening hours end before they start', (f: ReturnType<typeof fixture>) => { f.nodes.hours = { ...f.nodes.hours, weekly: { mon: '17:00-09:00' } }; }, 'hours', /node "hours": weekly\.mon\.0: opening hours end after they start/],
    ['a weekday is misspelled', (f: ReturnType<typeof fixture>) => { f.nodes.hours = { ...f.nodes.hours, weekly: { mnd: '09:00-17:00' } }; }, 'hours', /node "hours": weekly: Unrecognized key: "mnd"/],
    ['an hours branch points at a missing node', (f: ReturnType<typeof fixture>) => { f.nodes.hours = { ...f.nodes.hours, closed: 'shut' }; }, 'hours', /node "hours": closed → "shut" is not a node/],
    ['an account type is unknown', (f: ReturnType<typeof fixture>) => { f.nodes.savings = { ...f.nodes.savings, types: ['saving'] }; }, 'savings', /node "savings": types\.0: /],
    ['a savings-only action has no "no savings" prompt', (f: ReturnType<typeof fixture>) => { delete f.prompts['es-US']?.['account.none']; }, 'savings', /node "savings": prompt "account\.none" \(prompts\.none\) is missing in es-US/],
    ['a balance names a statement period', (f: ReturnType<typeof fixture>) => { f.nodes.savings = { ...f.nodes.savings, period: 'choose' }; }, 'savings', /node "savings": period is only for the statement-sms action/],
    ['an hours node and a say node loop without waiting', (f: ReturnType<typeof fixture>) => { f.nodes.hours = { ...f.nodes.hours, open: 'closed' }; f.nodes.closed = { ...f.nodes.closed, next: 'hours' }; }, 'hours', /node "hours": say and hours nodes loop back here without ever waiting for the caller \(hours → closed → hours\)/],
  ])('when %s, then the error names the file, the node and the fix', (_story, breakIt, node, message) => {
    const flow = fixture();
    breakIt(flow);
    const problems = problemsOf(() => validateFlow(flow, FILE));
    expect(problems.filter((p) => p.node === node)).toHaveLength(1);
    expect(() => validateFlow(flow, FILE)).toThrow(message);
  });

  it('when the main flow routes dialled numbers, then each names an existing flow and a locale that flow speaks', () => {
    const main = { ...fixture(), numbers: { '+18005550198': { locale: 'es-US' }, '+18005550197': { flow: 'cards', locale: 'es-US' }, '+18005550196': { flow: 'nowhere' } } };
    const cards = { id: 'cards', locales: ['en-US'], start: 'bye', prompts: { 'en-US': { bye: 'bye' } }, nodes: { bye: { kind: 'hangup', prompt: 'bye' } } };
    const messages = problemsOf(() => loadFlows(dirWith({ 'main.json': main, 'cards.json': cards }))).map((p) => p.message);
    expect(messages).toEqual([
      `numbers.+18005550197.locale "es-US" is not one of flow "cards"'s locales (en-US)`,
      'numbers.+18005550196.flow → "nowhere" is not a flow',
    ]);
  });

  it('when a flow other than main routes numbers, then the author is told to move them to main', () => {
    const other = { id: 'cards', locales: ['en-US'], start: 'bye', numbers: { '+18005550197': { locale: 'en-US' } }, prompts: { 'en-US': { bye: 'bye' } }, nodes: { bye: { kind: 'hangup', prompt: 'bye' } } };
    const problems = problemsOf(() => loadFlows(dirWith({ 'main.json': fixture(), 'cards.json': other })));
    expect(problems.map((p) => p.message)).toEqual(['numbers is read from the main flow only (where every call starts): move it there']);
  });
});

describe('the catalogue: the words the backend says outside a node (item 7)', () => {
  it.each(['api.code', 'api.waiting', 'statement.sms'])('when the main flow lacks %s in one locale, then start-up names the key and the locale', (key) => {
    const main = fixture();
    delete main.prompts['es-US']?.[key];
    const problems = problemsOf(() => loadFlows(dirWith({ 'main.json': main })));
    expect(problems).toEqual([expect.objectContaining({ code: 'missing_prompt', message: `prompt "${key}" (catalogue) is missing in es-US` })]);
  });

  it('when the SMS text drops the link placeholder, then start-up says which placeholders it must use', () => {
    const main = fixture();
    main.prompts['en-US'] = { ...main.prompts['en-US'], 'statement.sms': 'your {month} statement' };
    const problems = problemsOf(() => loadFlows(dirWith({ 'main.json': main })));
    expect(problems.map((p) => p.message)).toContain('prompt "statement.sms" in en-US must use {month}, {url}, {minutes}, it uses {month}');
  });
});
