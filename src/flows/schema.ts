import { z } from 'zod';
import { ACTION_NAMES, ACTIONS, isActionName } from '../ivr/action-registry.js';

/**
 * The shape of a flow file (docs/flows.md). Types are inferred from these schemas, so the engine's
 * node handlers and the validator see exactly what was parsed, with every default already applied.
 * Objects are strict: a typo such as `nxt:` is an error at start-up, not a silent dead branch.
 */

/** A protected action reads or sends customer data: reachable only through a `verify` node (DESIGN A3). */
export function isProtectedAction(action: string): boolean {
  return isActionName(action) && ACTIONS[action].protected;
}

/** Account types a node may limit its account choice to (`types: [savings]`); the bank's own words (A6). */
export const ACCOUNT_TYPES = ['checking', 'savings', 'credit'] as const;

const nodeId = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'a node id is letters, digits, "_", "." or "-"');
const promptKey = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'a prompt key is letters, digits, "_", "." or "-"');
const seconds = (max: number) => z.number().int().min(1).max(max);
const locale = z.string().regex(/^[a-z]{2,3}(-[A-Z][A-Za-z0-9]+)?$/, 'a locale looks like en-US');

const sayNode = z.strictObject({
  kind: z.literal('say'),
  prompt: promptKey,
  next: nodeId,
});

const menuNode = z.strictObject({
  kind: z.literal('menu'),
  prompt: promptKey,
  // Keys are single keypad keys; YAML turns `1:` into "1", `"*"` and `"#"` must be quoted.
  options: z
    .record(
      z.string().regex(/^[0-9*#]$/, 'an option is one keypad key: 0-9, * or #'),
      // `locale`: from this key on the call speaks that locale (A3: "Para español, oprima 9").
      z.strictObject({ next: nodeId, locale: locale.optional() }),
    )
    .refine((o) => Object.keys(o).length > 0, 'a menu needs at least one option'),
  timeoutSeconds: seconds(60).default(6),
  /** How many times the menu is played in all (first play included) before `onExhausted`. */
  maxAttempts: z.number().int().min(1).max(10).default(3),
  noInputPrompt: promptKey.default('menu.no_input'),
  invalidPrompt: promptKey.default('menu.invalid'),
  onExhausted: nodeId,
});

const verifyNode = z.strictObject({
  kind: z.literal('verify'),
  /** The verified branch. */
  next: nodeId,
  /** Where a failed verification goes; must be a `transfer` node (it transfers with verified: false). */
  onFail: nodeId,
  /** Where the caller goes after pressing 0; default the flow's `home`. */
  onCancel: nodeId.optional(),
  // 10 loops of ~8 s gather + prompt outlast the default 90 s DID, so expiry (and its reissue) comes first.
  maxLoops: z.number().int().min(1).max(30).default(10),
  maxReissues: z.number().int().min(0).max(3).default(1),
  gatherTimeoutSeconds: seconds(30).default(8),
  prompts: z
    .strictObject({
      code: promptKey.default('verify.code'),
      reissued: promptKey.default('verify.reissued'),
      waiting: promptKey.default('verify.waiting'),
      options: promptKey.default('verify.options'),
      confirmed: promptKey.default('verify.confirmed'),
      canceled: promptKey.default('verify.canceled'),
      invalid: promptKey.default('verify.invalid'),
    })
    .prefault({}),
});

const actionNode = z.strictObject({
  kind: z.literal('action'),
  /** One of the actions in src/ivr/action-registry.ts; a misspelled name is an error at load, not live. */
  action: z.enum(ACTION_NAMES, {
    error: (iss) => `unknown action ${JSON.stringify(iss.input)} (one of ${ACTION_NAMES.join(', ')})`,
  }),
  /** Ask which account when the customer has several (of `types`); false = the first one (of `types`), unasked. */
  chooseAccount: z.boolean().default(false),
  /** Only accounts of these types are offered or used; none of them → `prompts.none` and `onFailure`. */
  types: z.array(z.enum(ACCOUNT_TYPES)).min(1).optional(),
  /**
   * statement-sms: `latest` (default), `previous`, an explicit `YYYY-MM`, or `choose`: the caller picks
   * among the account's latest 3 statements by month, asked only when there is more than one (A3).
   */
  period: z
    .string()
    .regex(/^(latest|previous|choose|\d{4}-(0[1-9]|1[0-2]))$/, 'a period is latest, previous, choose or YYYY-MM')
    .optional(),
  /** Default the flow's `home` (DESIGN A3: back to the main menu after a protected action). */
  next: nodeId.optional(),
  onFailure: nodeId.optional(),
  /** The verify node to go back through on `action.unverified`; computed at load when unambiguous. */
  gate: nodeId.optional(),
  /** Account choice menu. */
  timeoutSeconds: seconds(60).default(6),
  maxAttempts: z.number().int().min(1).max(10).default(3),
  prompts: z
    .strictObject({
      accountOption: promptKey.default('account.option'),
      invalid: promptKey.default('account.invalid'),
      /** Said when the customer has no account of `types`. */
      none: promptKey.default('account.none'),
      /** `period: choose`: one per statement, with {month} and {n}. */
      periodOption: promptKey.default('statement.option'),
      periodInvalid: promptKey.default('statement.invalid'),
    })
    .prefault({}),
});

const transferNode = z.strictObject({
  kind: z.literal('transfer'),
  prompt: promptKey.optional(),
  queue: z.string().min(1),
});

const hangupNode = z.strictObject({
  kind: z.literal('hangup'),
  prompt: promptKey.optional(),
});

const clock = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'a time is HH:MM (00:00 to 24:00)');
const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
/** "09:00-17:00": open from the first minute up to (not including) the second. */
const range = z
  .string()
  .regex(/^\d\d:\d\d-\d\d:\d\d$/, 'opening hours look like 09:00-17:00')
  .refine((r) => clock.safeParse(r.slice(0, 5)).success && clock.safeParse(r.slice(6)).success, 'a time is HH:MM (00:00 to 24:00)')
  .refine((r) => minutesOf(r.slice(0, 5)) < minutesOf(r.slice(6)), 'opening hours end after they start (09:00-17:00)')
  .transform((r) => ({ from: minutesOf(r.slice(0, 5)), to: minutesOf(r.slice(6)) }));
// One range may be written without the list brackets (`mon: 09:00-17:00`).
const ranges = z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(range));
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const hoursNode = z.strictObject({
  kind: z.literal('hours'),
  /** IANA time zone the hours are in, e.g. America/New_York (daylight saving follows it). */
  timeZone: z.string().refine(isTimeZone, 'an IANA time zone such as America/New_York'),
  /** Opening hours per weekday (`mon: 09:00-17:00` or a list of ranges); a day not listed is closed. */
  weekly: z.strictObject(Object.fromEntries(WEEKDAYS.map((d) => [d, ranges.optional()])) as Record<(typeof WEEKDAYS)[number], z.ZodOptional<typeof ranges>>),
  /** Whole days closed, `YYYY-MM-DD` in `timeZone`. */
  holidays: z.array(z.string().regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'a holiday is YYYY-MM-DD')).default([]),
  open: nodeId,
  closed: nodeId,
});

const redirectNode = z.strictObject({
  kind: z.literal('redirect'),
  flow: z.string().min(1),
  /** Default the target flow's `start`. */
  node: nodeId.optional(),
});

export const nodeSchema = z.discriminatedUnion('kind', [
  sayNode,
  menuNode,
  verifyNode,
  actionNode,
  transferNode,
  hangupNode,
  redirectNode,
  hoursNode,
]);

/** A dialled number (E.164, the bank's own line) and where its calls start: another flow, a locale, or both. */
const dialledNumber = z.string().regex(/^\+[1-9]\d{6,14}$/, 'a dialled number is E.164, e.g. +18005550199');
const numberRoute = z
  .strictObject({ flow: z.string().min(1).optional(), locale: locale.optional() })
  .refine((r) => r.flow !== undefined || r.locale !== undefined, 'a number sets a flow, a locale or both');

export const flowSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a flow id is lower-case letters, digits or "-"'),
    description: z.string().optional(),
    /** The first is the default when the caller's locale is not listed. */
    locales: z.array(locale).min(1),
    prompts: z.record(z.string(), z.record(z.string(), z.string().min(1))),
    start: nodeId,
    /** Where callers return after an action or a cancel; default `start`. */
    home: nodeId.optional(),
    /**
     * A transfer node with a prompt: the apology and agent queue the webhooks answer when something
     * fails mid-call (DESIGN B3). Required on the main flow.
     */
    failClosed: nodeId.optional(),
    /** Main flow only: calls to these numbers start in that flow and/or locale (`/twilio/voice` `To`). */
    numbers: z.record(dialledNumber, numberRoute).optional(),
    nodes: z.record(nodeId, nodeSchema),
  })
  .transform((f) => ({ ...f, home: f.home ?? f.start }));

export type Flow = z.output<typeof flowSchema>;
export type FlowNode = z.output<typeof nodeSchema>;
export type Kind = FlowNode['kind'];
export type NodeOf<K extends Kind> = Extract<FlowNode, { kind: K }>;

/** Every node kind, read off the schema so the list cannot drift from it. */
export const NODE_KINDS: readonly Kind[] = nodeSchema.options.map((o) => o.shape.kind.value);

export interface Flows {
  /** The flow whose id is `main`: where every call starts. */
  main: Flow;
  byId: Map<string, Flow>;
}
