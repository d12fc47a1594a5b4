import type { CallState, Locale } from '../types.js';
import { effect, type Turn } from './context.js';

/**
 * Choosing the call's language: the state takes the new locale at once, a `locale.select` effect
 * records it (language_selected), and the engine then goes on to `next`. The target rides in `phase`
 * so any node kind can do this without its own handling of the effect's answer.
 */
export const SELECTING = 'select:';

export const selecting = (state: CallState, next: string): CallState => ({ ...state, phase: `${SELECTING}${next}` });

export const selectLocale = (state: CallState, locale: Locale, next: string): Turn =>
  effect(selecting({ ...state, locale }, next), { kind: 'locale.select', locale, via: 'menu' });
