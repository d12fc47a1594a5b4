import { pickLocale, renderPrompt, spokenDigits } from '../engine/prompts.js';

/**
 * What a contact-centre flow says around a code. Not the Twilio flow's `verify.*` prompts: those
 * name our wait loop's keys ("press 1, 9, 0"), and a Genesys or CXone loop polls instead, so its
 * callers press nothing. The code sentence keeps A3's shape: one sentence calling it a code, its
 * digits separated.
 */
const TEXTS: Record<string, { speak: string; loop: string }> = {
  'en-US': {
    speak: 'Your code is {code}. Enter it in the Vaultline app now.',
    loop: 'We are waiting for your confirmation in the Vaultline app.',
  },
  'es-US': {
    speak: 'Su código es {code}. Ingréselo ahora en la aplicación Vaultline.',
    loop: 'Estamos esperando su confirmación en la aplicación Vaultline.',
  },
};
const LOCALES = Object.keys(TEXTS);

export interface ApiPrompts {
  speak: string;
  loop: string;
  locale: string;
}

/** The closest supported locale: the same one, else the same language, else en-US. */
export const apiLocale = (wanted?: string): string => pickLocale(LOCALES, wanted);

/** The prompts for `did` in the closest supported locale. */
export function promptsFor(did: string, wanted?: string): ApiPrompts {
  const locale = apiLocale(wanted);
  const texts = TEXTS[locale] as { speak: string; loop: string };
  return { speak: renderPrompt(texts.speak, { code: spokenDigits(did) }), loop: texts.loop, locale };
}
