import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseFlowSource } from '../../../src/flows/source.js';

/**
 * Conversation tests (docs/flows.md, Testing a flow): `flows/tests/*.yaml`, each a list of calls, each a
 * list of steps a caller and the bank's test devices take. A flow author writes them without TypeScript;
 * `npm run flows -- test` and `npm test` run them against the real app on the built-in simulator.
 */

/** `"text"` (a substring, case-insensitive) or `"/pattern/flags"`. */
const phrase = z.string().min(1);
const duration = z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, 'a duration such as 90s, 500ms, 2m, 1h or 1d');

const dial = z.strictObject({
  /** The caller's number (From); default the customer's mobile on file, else +15555550100. */
  caller: z.string().regex(/^\+\d{8,15}$/, 'an E.164 number such as +14155550101').optional(),
  /** The dialled number (To); default +18005550199. */
  number: z.string().regex(/^\+\d{8,15}$/, 'an E.164 number such as +18005550199').optional(),
  /** Whose test device `confirm` uses (a customer id of the bank data). */
  customer: z.string().min(1).optional(),
});

export const stepSchema = z.union([
  z.strictObject({ dial }),
  z.strictObject({ press: z.union([z.string().regex(/^[0-9*#]+$/, 'keys 0-9, * or #'), z.number().int().min(0)]).transform(String) }),
  z.literal('silence'),
  z.strictObject({ hear: phrase }),
  z.strictObject({ not_hear: phrase }),
  z.literal('confirm'),
  z.literal('wrong_code'),
  z.strictObject({ advance: duration }),
  z.literal('hang_up'),
  z.strictObject({ sms: z.strictObject({ to: z.string().min(1), containing: phrase }) }),
  z.strictObject({ transfer: z.strictObject({ queue: z.string().min(1), verified: z.boolean() }) }),
]);
export type Step = z.output<typeof stepSchema>;

export const callSchema = z.strictObject({
  call: z.string().min(1),
  steps: z.array(stepSchema).min(1),
});
export const conversationFileSchema = z.array(callSchema).min(1);

export interface ConversationCall {
  name: string;
  file: string;
  line?: number;
  steps: { step: Step; line?: number }[];
}

/** Reads one test file; a malformed one throws naming the file, line and step. */
export function readConversationFile(file: string): ConversationCall[] {
  const source = parseFlowSource(readFileSync(file, 'utf8'));
  const syntax = source.errors[0];
  if (syntax) throw new Error(`${file}:${syntax.line}: ${syntax.message}`);
  const parsed = conversationFileSchema.safeParse(source.raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.map(String) ?? [];
    throw new Error(`${file}:${source.lineOf(where) ?? 1}: ${where.join('.')}: ${issue?.message ?? 'invalid'} (steps: dial, press, silence, hear, not_hear, confirm, wrong_code, advance, hang_up, sms, transfer)`);
  }
  return parsed.data.map((c, i) => ({
    name: c.call,
    file,
    line: source.lineOf([String(i)]),
    steps: c.steps.map((step, j) => ({ step, line: source.lineOf([String(i), 'steps', String(j)]) })),
  }));
}

/** Every `*.yaml` / `*.yml` test file of a folder, sorted; none when the folder is absent. */
export function listConversationFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => /\.ya?ml$/i.test(f))
      .sort()
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m?.[2] ?? 's'] ?? 1000;
  return Number(m?.[1] ?? 0) * unit;
}

/** `"/pattern/i"` → RegExp; otherwise a case-insensitive substring test. */
export function matcher(phrase: string): { test(text: string): boolean; describe: string } {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(phrase);
  if (m) {
    const re = new RegExp(m[1] ?? '', m[2]);
    return { test: (t) => re.test(t), describe: phrase };
  }
  const want = phrase.toLowerCase();
  return { test: (t) => t.toLowerCase().includes(want), describe: JSON.stringify(phrase) };
}
