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
}

const fixed = (field: string, key: string, params: readonly string[] = []): PromptUse => ({ field, key, params });

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
    ...Object.entries(actionOf(n.action).prompts).map(([role, p]) => fixed(`${n.action} ${role}`, p.key, p.params)),
  ],
  transfer: (n) => (n.prompt === undefined ? [] : [fixed('prompt', n.prompt)]),
  hangup: (n) => (n.prompt === undefined ? [] : [fixed('prompt', n.prompt)]),
  redirect: () => [],
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

/** Every prompt `node` speaks exists in every locale, with the placeholders the engine fills in. */
export function checkPrompts(flow: Flow, id: string, node: FlowNode, add: Add): void {
  for (const use of promptUses(node)) {
    for (const locale of flow.locales) {
      const table = flow.prompts[locale];
      if (!table) continue; // reported once by checkLocales
      const text = table[use.key];
      if (text === undefined) {
        add('missing_prompt', `prompt "${use.key}" (${use.field}) is missing in ${locale}`, id);
        continue;
      }
      if (use.params === undefined) continue;
      const found = placeholdersOf(text);
      const missing = use.params.filter((p) => !found.has(p));
      const unknown = [...found].filter((p) => !use.params?.includes(p));
      if (missing.length > 0 || unknown.length > 0) {
        const want = use.params.length === 0 ? 'no placeholders' : use.params.map((p) => `{${p}}`).join(', ');
        add('prompt_placeholders', `prompt "${use.key}" in ${locale} must use ${want}, it uses ${show(found)}`, id);
      }
    }
  }
}

/** A translation must fill the same placeholders as the first locale, or one language says "{amount}". */
export function checkPlaceholdersAgree(flow: Flow, add: Add): void {
  const [first, ...rest] = flow.locales;
  const base = first === undefined ? undefined : flow.prompts[first];
  if (!base) return;
  for (const locale of rest) {
    for (const [key, text] of Object.entries(flow.prompts[locale] ?? {})) {
      const theirs = base[key];
      if (theirs === undefined) continue;
      const a = placeholdersOf(theirs);
      const b = placeholdersOf(text);
      if (a.size !== b.size || [...a].some((p) => !b.has(p))) {
        add('prompt_placeholders', `prompt "${key}" uses ${show(b)} in ${locale} but ${show(a)} in ${first}`);
      }
    }
  }
}

const show = (s: ReadonlySet<string>) => (s.size === 0 ? 'none' : [...s].map((p) => `{${p}}`).join(', '));
