import { CATALOGUE_PROMPTS } from '../engine/catalogue.js';
import { placeholdersOf } from '../engine/prompts.js';
import type { Add } from './problems.js';
import { actionOf } from '../ivr/action-registry.js';
import type { Flow, FlowNode, Kind, NodeOf } from './schema.js';

/**
 * Prompt checks: every locale has a prompt table, every prompt a node speaks exists in each of them, and
 * each uses exactly the placeholders the engine fills, so no caller hears silence or a literal "{code}".
 */

/** A prompt a node speaks; `params` = the placeholders it gets, undefined = chosen by the backend. */
interface PromptUse {
  field: string;
  key: string;
  params?: readonly string[];
  /** The key is written on the node (not a default, not an action's): a missing one is likely a typo there. */
  written: boolean;
}

const fixed = (field: string, key: string, params: readonly string[] = [], written = true): PromptUse => ({ field, key, params, written });

// A Record, not a switch, so a new node kind does not compile until its prompts are declared.
const promptsOf: { [K in Kind]: (n: NodeOf<K>) => PromptUse[] } = {
  say: (n) => [fixed('prompt', n.prompt)],
  menu: (n) => [fixed('prompt', n.prompt), fixed('noInputPrompt', n.noInputPrompt), fixed('invalidPrompt', n.invalidPrompt)],
  verify: (n) => [
    fixed('prompts.code', n.prompts.code, ['code']),
    fixed('prompts.reissued', n.prompts.reissued, ['code']),
    fixed('prompts.waiting', n.prompts.waiting),
    fixed('prompts.options', n.prompts.options),
    fixed('prompts.confirmed', n.prompts.confirmed),
    fixed('prompts.canceled', n.prompts.canceled),
    fixed('prompts.invalid', n.prompts.invalid),
  ],
  action: (n) => [
    ...(n.chooseAccount
      ? [fixed('prompts.accountOption', n.prompts.accountOption, ['last4', 'n']), fixed('prompts.invalid', n.prompts.invalid)]
      : []),
    ...(n.types === undefined ? [] : [fixed('prompts.none', n.prompts.none)]),
    ...(n.period === 'choose' && n.action === 'statement-sms'
      ? [fixed('prompts.periodOption', n.prompts.periodOption, ['month', 'n']), fixed('prompts.periodInvalid', n.prompts.periodInvalid)]
      : []),
    ...Object.values(actionOf(n.action).prompts).map((p) => fixed('action', p.key, p.params, false)),
  ],
  transfer: (n) => (n.prompt === undefined ? [] : [fixed('prompt', n.prompt)]),
  hangup: (n) => (n.prompt === undefined ? [] : [fixed('prompt', n.prompt)]),
  redirect: () => [],
  hours: () => [],
};

// The cast pairs each node with its own kind's function; TypeScript cannot correlate the union by itself.
const promptUses = (node: FlowNode): PromptUse[] => (promptsOf[node.kind] as (n: FlowNode) => PromptUse[])(node);

/** `locales` lists each locale once, and the prompt tables are exactly those of `locales`. */
export function checkLocales(flow: Flow, add: Add): void {
  const declared = new Set(flow.locales);
  if (declared.size !== flow.locales.length) add('locales', 'a locale is listed twice in locales');
  for (const locale of Object.keys(flow.prompts)) {
    if (!declared.has(locale)) add('locales', `prompts for "${locale}", which is not in locales`);
  }
  for (const locale of declared) {
    if (!flow.prompts[locale]) add('missing_prompt', `no prompts for locale "${locale}"`);
  }
}

/**
 * Every prompt the nodes speak exists in every locale, with the placeholders the engine fills. Each
 * prompt is checked once however many nodes speak it (a missing `menu.invalid` is one problem, not one
 * per menu), and the message names the first node that uses it and how many others do.
 */
export function checkPrompts(flow: Flow, add: Add): void {
  const usesOf = new Map<string, { node: string; use: PromptUse }[]>();
  for (const [id, node] of Object.entries(flow.nodes)) {
    for (const use of promptUses(node)) usesOf.set(use.key, [...(usesOf.get(use.key) ?? []), { node: id, use }]);
  }
  for (const [key, uses] of usesOf) {
    const [first] = uses;
    if (first === undefined) continue;
    const others = uses.length > 1 ? ` (also used by ${[...new Set(uses.slice(1).map((u) => u.node))].join(', ')})` : '';
    const nodePath = ['nodes', first.node, ...first.use.field.split('.')];
    const missingIn = flow.locales.filter((locale) => flow.prompts[locale] && flow.prompts[locale]?.[key] === undefined);
    // Missing everywhere and written on the node: most likely a typo in the node, so point there.
    const typo = missingIn.length === flow.locales.length && first.use.written;
    for (const locale of missingIn) {
      add('missing_prompt', `prompt "${key}" (${first.use.field}) is missing in ${locale}${others}`, first.node, typo ? nodePath : ['prompts', locale],
        typo ? `add "${key}" to every locale's prompts, or correct the key` : `add "${key}" under prompts.${locale}`);
    }
    const params = first.use.params;
    if (params === undefined) continue;
    for (const locale of flow.locales) {
      const text = flow.prompts[locale]?.[key];
      if (text === undefined) continue;
      const found = placeholdersOf(text);
      const missing = params.filter((p) => !found.has(p));
      const unknown = [...found].filter((p) => !params.includes(p));
      if (missing.length > 0 || unknown.length > 0) {
        const want = params.length === 0 ? 'no placeholders' : params.map((p) => `{${p}}`).join(', ');
        add('prompt_placeholders', `prompt "${key}" in ${locale} must use ${want}, it uses ${show(found)}${others}`, first.node, ['prompts', locale, key],
          `write the ${locale} text of "${key}" with ${want}`);
      }
    }
  }
}

/** Keys whose placeholders checkPrompts checked against what the engine fills: not compared again. */
function engineFilled(flow: Flow): Set<string> {
  const keys = new Set<string>();
  for (const node of Object.values(flow.nodes)) for (const use of promptUses(node)) if (use.params !== undefined) keys.add(use.key);
  return keys;
}

/** A translation must fill the same placeholders as the first locale, or one language says "{amount}". */
export function checkPlaceholdersAgree(flow: Flow, add: Add): void {
  const [first, ...rest] = flow.locales;
  const base = first === undefined ? undefined : flow.prompts[first];
  if (!base) return;
  // A prompt the engine fills was checked against its placeholders in every locale: one problem, not two.
  const checked = engineFilled(flow);
  for (const locale of rest) {
    for (const [key, text] of Object.entries(flow.prompts[locale] ?? {})) {
      const theirs = base[key];
      if (theirs === undefined || checked.has(key)) continue;
      const a = placeholdersOf(theirs);
      const b = placeholdersOf(text);
      if (a.size !== b.size || [...a].some((p) => !b.has(p))) {
        add('prompt_placeholders', `prompt "${key}" uses ${show(b)} in ${locale} but ${show(a)} in ${first}`, undefined, ['prompts', locale, key],
          `write the ${locale} text of "${key}" with ${show(a)}`);
      }
    }
  }
}

const show = (s: ReadonlySet<string>) => (s.size === 0 ? 'none' : [...s].map((p) => `{${p}}`).join(', '));

/**
 * The main flow is also the catalogue of the words said outside a node (src/engine/catalogue.ts): the
 * provider API's prompts, the balance sentence, the statement SMS. Each in every locale, with exactly
 * its placeholders.
 */
export function checkCatalogue(flow: Flow, add: Add): void {
  // A key a node speaks too (balance.result) is checked, once, with that node by checkPrompts.
  const spoken = new Set(Object.values(flow.nodes).flatMap((n) => promptUses(n).map((u) => u.key)));
  for (const [key, params] of Object.entries(CATALOGUE_PROMPTS)) {
    if (spoken.has(key)) continue;
    for (const locale of flow.locales) {
      if (!flow.prompts[locale]) continue; // reported once by checkLocales
      const text = flow.prompts[locale]?.[key];
      if (text === undefined) {
        add('missing_prompt', `prompt "${key}" (catalogue) is missing in ${locale}`, undefined, ['prompts', locale],
          `add "${key}" under prompts.${locale}: the backend says it outside any node (docs/flows.md, the catalogue)`);
        continue;
      }
      const found = placeholdersOf(text);
      if (params.length !== found.size || params.some((p) => !found.has(p))) {
        const want = params.length === 0 ? 'no placeholders' : params.map((p) => `{${p}}`).join(', ');
        add('prompt_placeholders', `prompt "${key}" in ${locale} must use ${want}, it uses ${show(found)}`, undefined, ['prompts', locale, key],
          `write the ${locale} text of "${key}" with ${want}`);
      }
    }
  }
}
