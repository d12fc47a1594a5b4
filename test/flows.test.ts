import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { FlowError, loadFlows, validateFlow, type FlowProblem } from '../src/flows/load.js';
import { isProtectedAction, type Flow } from '../src/flows/schema.js';

const FLOWS_DIR = fileURLToPath(new URL('../flows', import.meta.url));
const FILE = 'flows/main.yaml';

/** A small valid flow; each test breaks one thing in its own copy. */
function fixture(): Record<string, unknown> & { nodes: Record<string, Record<string, unknown>>; prompts: Record<string, Record<string, string>> } {
  const prompts = (tag: string) => ({
    menu: `${tag} menu`,
    'menu.no_input': `${tag} nothing heard`,
    'menu.invalid': `${tag} not an option`,
    'verify.code': `${tag} your code is {code}`,
    'verify.reissued': `${tag} your new code is {code}`,
    'verify.waiting': `${tag} waiting`,
    'verify.options': `${tag} press 1, 9 or 0`,
    'verify.confirmed': `${tag} verified`,
    'verify.canceled': `${tag} canceled`,
    'verify.invalid': `${tag} not an option`,
    'balance.result': `${tag} {last4} has {amount}`,
    'balance.unavailable': `${tag} no balance`,
    // The main flow is also the catalogue of the words said outside a node.
    'api.code': `${tag} your code is {code}`,
    'api.waiting': `${tag} waiting`,
    'statement.sms': `${tag} {month} {url} {minutes}`,
    agent: `${tag} connecting`,
    bye: `${tag} goodbye`,
  });
  return {
    id: 'main',
    locales: ['en-US', 'es-US'],
    start: 'menu',
    failClosed: 'agent',
    nodes: {
      menu: { kind: 'menu', prompt: 'menu', options: { 1: { next: 'gate' }, 0: { next: 'agent' } }, onExhausted: 'bye' },
      gate: { kind: 'verify', next: 'balance', onFail: 'agent' },
      balance: { kind: 'action', action: 'balance' },
      agent: { kind: 'transfer', prompt: 'agent', queue: 'agents' },
      bye: { kind: 'hangup', prompt: 'bye' },
    },
    prompts: { 'en-US': prompts('en'), 'es-US': prompts('es') },
  };
}

function problemsOf(raw: unknown): readonly FlowProblem[] {
  try {
    validateFlow(raw, FILE);
  } catch (err) {
    if (err instanceof FlowError) return err.problems;
    throw err;
  }
  throw new Error('expected the flow to be rejected');
}

describe('the shipped flows', () => {
  it('when the app starts, then every file in flows/ validates and the main flow is the entry', () => {
    const flows = loadFlows(FLOWS_DIR);
    expect(flows.main.id).toBe('main');
    expect(flows.byId.get('main')).toBe(flows.main);
  });

  it('when a caller reaches the main menu, then the keys are those of DESIGN A3: 1 balance, 2 statement by SMS, 0 agent, 9 Spanish', () => {
    const { main } = loadFlows(FLOWS_DIR);
    const menu = main.nodes[main.home];
    expect(menu?.kind).toBe('menu');
    if (menu?.kind !== 'menu') return;
    const behindGate = (key: string) => {
      const gate = main.nodes[menu.options[key]?.next ?? ''];
      return gate?.kind === 'verify' ? main.nodes[gate.next] : undefined;
    };
    expect(behindGate('1')).toMatchObject({ kind: 'action', action: 'balance', chooseAccount: true });
    // The statement action asks which month itself, only when the account has more than one.
    expect(behindGate('2')).toMatchObject({ kind: 'action', action: 'statement-sms', chooseAccount: true, period: 'choose' });
    expect(main.nodes[menu.options['0']?.next ?? '']).toMatchObject({ kind: 'transfer' });
    expect(menu.options['9']).toEqual({ next: main.home, locale: 'es-US' });
  });

  it('when a protected action ends, then it returns to the main menu and its gate is known', () => {
    const { main } = loadFlows(FLOWS_DIR);
    const actions = Object.entries(main.nodes).filter(([, n]) => n.kind === 'action');
    expect(new Set(actions.map(([, n]) => n.kind === 'action' && n.action))).toEqual(new Set(['balance', 'statement-sms']));
    expect(actions.every(([, n]) => n.kind === 'action' && isProtectedAction(n.action))).toBe(true);
    for (const [, node] of actions) {
      expect(node).toMatchObject({ next: main.home, onFailure: main.home });
      expect(node.kind === 'action' && main.nodes[node.gate ?? '']?.kind).toBe('verify');
    }
  });

  it('when the flow declares several locales, then each has the same prompt keys as the first', () => {
    const raw = parseYaml(readFileSync(path.join(FLOWS_DIR, 'main.yaml'), 'utf8')) as Flow;
    const [first, ...others] = raw.locales;
    const keysOf = (locale: string | undefined) => Object.keys(raw.prompts[locale ?? ''] ?? {}).sort();
    expect(keysOf(first).length).toBeGreaterThan(0);
    for (const locale of others) expect(keysOf(locale), locale).toEqual(keysOf(first));
  });
});

describe('validating one flow', () => {
  it('when the fixture is untouched, then it is valid and defaults are filled in', () => {
    const flow = validateFlow(fixture(), FILE);
    expect(flow.home).toBe('menu');
    expect(flow.nodes.gate).toMatchObject({ maxLoops: 10, maxReissues: 1, prompts: { code: 'verify.code' } });
    expect(flow.nodes.balance).toMatchObject({ gate: 'gate' });
  });

  it.each([
    ['a node has an unknown kind', (f: ReturnType<typeof fixture>) => { f.nodes.balance = { kind: 'balanc' }; }, 'unknown_kind', 'balance', /flows\/main\.yaml: node "balance": unknown kind "balanc"/],
    ['a node has no kind', (f: ReturnType<typeof fixture>) => { f.nodes.bye = { prompt: 'bye' }; }, 'unknown_kind', 'bye', /node "bye": missing kind/],
    ['an action name is misspelled', (f: ReturnType<typeof fixture>) => { f.nodes.balance = { kind: 'action', action: 'balanse' }; }, 'unknown_action', 'balance', /node "balance": action: unknown action "balanse" \(one of balance, statement-sms\)/],
    ['a field name has a typo', (f: ReturnType<typeof fixture>) => { f.nodes.bye = { kind: 'hangup', promt: 'bye' }; }, 'schema', 'bye', /node "bye": Unrecognized key: "promt"/],
    ['a menu option points at a missing node', (f: ReturnType<typeof fixture>) => { f.nodes.menu = { ...f.nodes.menu, options: { 1: { next: 'gaet' } } }; }, 'dangling_target', 'menu', /node "menu": options\.1\.next → "gaet" is not a node/],
    ['a verify fallback points at a missing node', (f: ReturnType<typeof fixture>) => { f.nodes.gate = { ...f.nodes.gate, onFail: 'nobody' }; }, 'dangling_target', 'gate', /node "gate": onFail → "nobody"/],
    ['a redirect names an unknown flow', (f: ReturnType<typeof fixture>) => { f.nodes.bye = { kind: 'redirect', flow: 'main', node: 'nowhere' }; }, 'dangling_target', 'bye', /node "bye": node → "nowhere" is not a node of flow "main"/],
    ['a prompt is missing in one locale', (f: ReturnType<typeof fixture>) => { delete f.prompts['es-US']?.['menu.invalid']; }, 'missing_prompt', 'menu', /node "menu": prompt "menu\.invalid" \(invalidPrompt\) is missing in es-US/],
    ['a protected action has no result prompt', (f: ReturnType<typeof fixture>) => { delete f.prompts['en-US']?.['balance.result']; }, 'missing_prompt', 'balance', /node "balance": prompt "balance\.result" .* missing in en-US/],
    ['the code prompt forgets {code} in one locale', (f: ReturnType<typeof fixture>) => { f.prompts['es-US'] = { ...f.prompts['es-US'], 'verify.code': 'su código' }; }, 'prompt_placeholders', 'gate', /node "gate": prompt "verify\.code" in es-US must use \{code\}/],
    ['a menu prompt has a placeholder nobody fills', (f: ReturnType<typeof fixture>) => { f.prompts['en-US'] = { ...f.prompts['en-US'], menu: 'hi {name}' }; }, 'prompt_placeholders', 'menu', /node "menu": prompt "menu" in en-US must use no placeholders/],
    ['the main menu leads to a protected action without a gate', (f: ReturnType<typeof fixture>) => { f.nodes.menu = { ...f.nodes.menu, options: { 1: { next: 'balance' }, 2: { next: 'gate' } } }; }, 'unguarded_action', 'balance', /node "balance": protected action "balance" is reachable without passing a verify node \(menu → balance\)/],
    ['cancelling a gate leads straight to the protected action', (f: ReturnType<typeof fixture>) => { f.nodes.gate = { ...f.nodes.gate, onCancel: 'balance' }; }, 'unguarded_action', 'balance', /\(menu → gate → balance\)/],
    ['a verify fallback is not a transfer', (f: ReturnType<typeof fixture>) => { f.nodes.gate = { ...f.nodes.gate, onFail: 'bye' }; }, 'fallback_not_transfer', 'gate', /node "gate": onFail must be a transfer node/],
    ['two say nodes loop without waiting', (f: ReturnType<typeof fixture>) => { f.nodes.a = { kind: 'say', prompt: 'bye', next: 'b' }; f.nodes.b = { kind: 'say', prompt: 'bye', next: 'a' }; }, 'say_cycle', 'a', /node "a": say nodes loop back here/],
  ])('when %s, then the error names the file and the node', (_story, breakIt, code, node, message) => {
    const flow = fixture();
    breakIt(flow);
    const problems = problemsOf(flow);
    expect(problems).toContainEqual(expect.objectContaining({ code, node, file: FILE }));
    expect(() => validateFlow(flow, FILE)).toThrow(message);
  });

  it('when two gates lead to the same protected action and none is named, then the author must pick its gate', () => {
    const flow = fixture();
    flow.nodes.menu = { ...flow.nodes.menu, options: { 1: { next: 'gate' }, 2: { next: 'gate2' } } };
    flow.nodes.gate2 = { kind: 'verify', next: 'balance', onFail: 'agent' };
    expect(problemsOf(flow)).toContainEqual(expect.objectContaining({ code: 'gate', node: 'balance' }));
    flow.nodes.balance = { ...flow.nodes.balance, gate: 'gate2' };
    expect(validateFlow(flow, FILE).nodes.balance).toMatchObject({ gate: 'gate2' });
  });

  it('when a locale is declared but has no prompts, then one problem says so instead of one per key', () => {
    const flow = fixture();
    flow.locales = ['en-US', 'es-US', 'fr-CA'];
    const problems = problemsOf(flow);
    expect(problems).toEqual([expect.objectContaining({ code: 'missing_prompt', message: 'no prompts for locale "fr-CA"' })]);
  });

  it('when a translation loses a placeholder the action fills, then that prompt is named once', () => {
    const flow = fixture();
    flow.prompts['es-US'] = { ...flow.prompts['es-US'], 'balance.result': 'saldo {amount}' };
    expect(problemsOf(flow)).toEqual([expect.objectContaining({ code: 'prompt_placeholders', node: 'balance', path: ['prompts', 'es-US', 'balance.result'] })]);
    expect(() => validateFlow(flow, FILE)).toThrow(/flows\/main\.yaml: node "balance": prompt "balance\.result" in es-US must use \{last4\}, \{amount\}, it uses \{amount\}/);
  });

  it('when a translation of a prompt no node speaks uses other placeholders, then the prompt is named', () => {
    const flow = fixture();
    flow.prompts['en-US'] = { ...flow.prompts['en-US'], spare: 'hello {name}' };
    flow.prompts['es-US'] = { ...flow.prompts['es-US'], spare: 'hola' };
    expect(() => validateFlow(flow, FILE)).toThrow(/flows\/main\.yaml: prompt "spare" uses none in es-US but \{name\} in en-US/);
  });

  it('when several things are wrong, then one FlowError lists them all, one line each', () => {
    const flow = fixture();
    flow.nodes.gate = { ...flow.nodes.gate, onFail: 'nobody' };
    flow.nodes.bye = { kind: 'hangup', prompt: 'missing' };
    const problems = problemsOf(flow);
    expect(problems.map((p) => [p.code, p.node])).toEqual(
      expect.arrayContaining([
        ['dangling_target', 'gate'],
        ['missing_prompt', 'bye'],
      ]),
    );
    expect(() => validateFlow(flow, FILE)).toThrow(/node "gate": .*\n(.*\n)*.*node "bye": /);
  });

  it('when the schema itself is broken in two nodes, then both are reported', () => {
    const flow = fixture();
    flow.nodes.balance = { kind: 'balanc' };
    flow.nodes.bye = { kind: 'hangup', promt: 'bye' };
    expect(problemsOf(flow).map((p) => p.node).sort()).toEqual(['balance', 'bye']);
  });
});

describe('loading a folder of flows', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = '';
  });
  const write = (files: Record<string, unknown>) => {
    dir = mkdtempSync(path.join(tmpdir(), 'flows-'));
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
    }
    return dir;
  };

  it('when YAML and JSON files sit together, then both load and redirects between them are checked', () => {
    const main = fixture();
    main.nodes.menu = { ...main.nodes.menu, options: { 1: { next: 'gate' }, 0: { next: 'agent' }, 9: { next: 'more' } } };
    main.nodes.more = { kind: 'redirect', flow: 'extras' };
    const extras = { id: 'extras', locales: ['en-US'], start: 'hello', prompts: { 'en-US': { hi: 'hi' } }, nodes: { hello: { kind: 'hangup', prompt: 'hi' } } };
    const flows = loadFlows(write({ 'main.json': main, 'extras.yml': JSON.stringify(extras), 'notes.txt': 'ignored' }));
    expect([...flows.byId.keys()].sort()).toEqual(['extras', 'main']);
  });

  it('when a redirect names a flow that does not exist, then the error names the file and the node', () => {
    const main = fixture();
    main.nodes.bye = { kind: 'redirect', flow: 'extras' };
    expect(() => loadFlows(write({ 'main.json': main }))).toThrow(/main\.json:1: node "bye": flow → "extras" is not a flow/);
  });

  it('when another flow redirects into the middle of a flow, then a protected action after that entry still needs a gate', () => {
    const main = fixture();
    main.nodes.bye = { kind: 'redirect', flow: 'other', node: 'act' };
    const other = {
      id: 'other', locales: ['en-US'], start: 'intro',
      prompts: { 'en-US': { hi: 'hi', 'balance.result': '{amount}', 'balance.unavailable': 'no' } },
      nodes: { intro: { kind: 'hangup', prompt: 'hi' }, act: { kind: 'action', action: 'balance', next: 'intro', onFailure: 'intro' } },
    };
    expect(() => loadFlows(write({ 'main.json': main, 'other.json': other }))).toThrow(/other\.json:1: node "act": protected action "balance" is reachable without passing a verify node/);
  });

  it('when no flow has id main, then start-up stops and says so', () => {
    expect(() => loadFlows(write({ 'x.json': { ...fixture(), id: 'x' } }))).toThrow(/no flow has id "main"/);
  });

  it('when two files use the same flow id, then the second is named', () => {
    expect(() => loadFlows(write({ 'a.json': fixture(), 'b.json': fixture() }))).toThrow(/b\.json:1: flow id "main" is already used by .*a\.json/);
  });

  it('when the main flow has no failClosed transfer, then start-up stops', () => {
    const main = fixture();
    delete main.failClosed;
    expect(() => loadFlows(write({ 'main.json': main }))).toThrow(/main\.json:1: the main flow must set failClosed/);
  });

  it('when a file is not valid YAML, then the error names the file', () => {
    expect(() => loadFlows(write({ 'main.yaml': 'id: main\nnodes: [unclosed' }))).toThrow(/main\.yaml:2: /);
  });

  it('when a YAML file repeats a node id, then it is refused rather than the last one silently winning', () => {
    const text = 'id: main\nnodes:\n  a: { kind: hangup }\n  a: { kind: hangup }\n';
    expect(() => loadFlows(write({ 'main.yaml': text }))).toThrow(/main\.yaml:4: .*unique/i);
  });

  it('when the folder does not exist, then the FlowError says which folder', () => {
    expect(() => loadFlows('/nonexistent/flows-dir')).toThrow(/cannot read the flows folder/);
  });
});
