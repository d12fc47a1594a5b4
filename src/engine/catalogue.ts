import type { Flows } from '../flows/schema.js';
import { EngineError } from './nodes/context.js';
import { pickLocale, renderPrompt } from './prompts.js';
import type { Locale } from './types.js';

/**
 * The words the backend says outside a node (DESIGN issue 15 item 7): the provider API's code and
 * wait prompts, the balance sentence it returns, the statement SMS. They live in the main flow's
 * prompt tables like every other word, so a new locale or a rewording is a flow edit, never code.
 * The validator (src/flows/prompt-checks.ts) checks each key below exists in every locale of the main
 * flow with exactly these placeholders.
 */
export const CATALOGUE_PROMPTS = {
  /** /api/v1 `prompts.speak`: one sentence that calls it a code (A3). */
  'api.code': ['code'],
  /** /api/v1 `prompts.loop`. */
  'api.waiting': [],
  /** The balance sentence, for the IVR action and for /api/v1/balance `speech`. */
  'balance.result': ['last4', 'amount'],
  /** The statement SMS (A8): names the bank, the month and the link, nothing else. */
  'statement.sms': ['month', 'url', 'minutes'],
} as const satisfies Record<string, readonly string[]>;

export type CatalogueKey = keyof typeof CATALOGUE_PROMPTS;

export interface PromptCatalogue {
  /** The catalogue's locale for a wanted one: the same, else the same language, else the default. */
  locale(wanted?: Locale): Locale;
  /** The prompt in `locale` (which must be one of the catalogue's) with its placeholders filled. */
  text(key: CatalogueKey, locale: Locale, params: Readonly<Record<string, string>>): string;
}

/** `current` gives the loaded flows (development reloads them: the catalogue follows). */
export function createPromptCatalogue(current: () => Flows): PromptCatalogue {
  return {
    locale: (wanted) => pickLocale(current().main.locales, wanted),
    text(key, locale, params) {
      const { main } = current();
      const text = main.prompts[locale]?.[key];
      // Validated at load for every locale of the main flow; this is a caller passing a foreign locale.
      if (text === undefined) throw new EngineError('missing_prompt', `flow "${main.id}" has no prompt "${key}" in ${locale}`);
      return renderPrompt(text, params);
    },
  };
}
