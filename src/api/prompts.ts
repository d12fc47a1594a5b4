import type { PromptCatalogue } from '../engine/catalogue.js';
import { spokenDigits } from '../engine/prompts.js';

/**
 * What a contact-centre flow says around a code: the catalogue's `api.code` and `api.waiting`, not
 * the Twilio flow's `verify.*` prompts, which name our wait loop's keys ("press 1, 9, 0") where a
 * Genesys or CXone loop polls instead. The code sentence keeps A3's shape: one sentence calling it a
 * code, its digits separated.
 */
export interface ApiPrompts {
  speak: string;
  loop: string;
  locale: string;
}

/** The prompts for `did` in the catalogue's closest locale to `wanted` (the session's `locale`). */
export function promptsFor(catalogue: PromptCatalogue, did: string, wanted?: string): ApiPrompts {
  const locale = catalogue.locale(wanted);
  return { speak: catalogue.text('api.code', locale, { code: spokenDigits(did) }), loop: catalogue.text('api.waiting', locale, {}), locale };
}
