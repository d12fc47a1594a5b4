import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

/**
 * Request and response bodies of the provider-neutral API (DESIGN A5). The routes parse with these,
 * their types are inferred from them, and `openapi.ts` generates the served document from the very
 * same objects (STYLE habit 6), so the document cannot drift from what the routes do.
 */
extendZodWithOpenApi(z);

export const SESSION_STATUSES = ['pending', 'confirmed', 'expired', 'canceled', 'call_ended'] as const;

export const sessionStatus = z.enum(SESSION_STATUSES).openapi('SessionStatus', {
  description: '`confirmed`, `expired`, `canceled` and `call_ended` are terminal: they never change.',
});

// Call ids travel in a path (`/calls/{callId}/end`): no slash, no space, nothing to escape.
export const callIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:@+=-]{1,128}$/, 'a call id is 1-128 letters, digits or ._:@+=-')
  .openapi({ description: "The contact-centre platform's id of the live call (Genesys conversationId, CXone contactId, Five9 call id…).", example: 'b6f1f0d2-5c8e-4a57-9d0a-3f6f1c2e9a41' });

const sessionId = z.string().regex(/^ses_[A-Za-z0-9_-]{22}_[A-Za-z0-9_-]{8,64}$/).openapi({ example: 'ses_u7Q0m3cZgC0h9o1m2yYt9A_9f2JcVn1oV2p6Qb7' });

export const createSessionBody = z
  .object({
    provider: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/, 'a provider is 1-40 letters, digits or ._-')
      .openapi({ description: 'Who hosts the call, e.g. `genesys-cloud`, `nice-cxone`, `five9`, `agent-desktop`. `twilio` is reserved.', example: 'genesys-cloud' }),
    callId: callIdSchema,
    ani: z.string().max(32).optional().openapi({ description: 'Calling number. Accepted for the platform\'s convenience; never stored or logged.' }),
    dnis: z.string().max(32).optional().openapi({ description: 'Dialled number. Accepted; never stored or logged.' }),
    locale: z
      .string()
      .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, 'a locale looks like en-US')
      .optional()
      .openapi({ description: 'Language of `prompts`: `en-US` (default) or `es-US`; others fall back to the same language, else `en-US`.', example: 'en-US' }),
    metadata: z
      .record(z.string().max(64), z.union([z.string().max(256), z.number(), z.boolean()]))
      .refine((m) => Object.keys(m).length <= 20, 'at most 20 metadata entries')
      .optional()
      .openapi({
        description:
          'Free correlation data of the platform, never logged. Only `caseId` (a string or number) is kept, sealed, so that a late confirmation can name the case in `GET /calls/{callId}/verification`; everything else is not stored.',
        maxProperties: 20,
        example: { caseId: 'CASE-20461' },
      }),
    callbackUrl: z
      .url()
      .max(2048)
      .optional()
      .openapi({ description: 'Extension: `https` URL that receives the session once it reaches a terminal state (see the `sessionTerminal` webhook).' }),
  })
  .openapi('CreateSessionRequest');
export type CreateSessionBody = z.infer<typeof createSessionBody>;

export const sessionCreated = z
  .strictObject({
    sessionId,
    did: z.string().regex(/^\d{6,10}$/).openapi({ description: 'The code to speak; only in this answer.', example: '482913' }),
    status: sessionStatus,
    ttlSeconds: z.int().min(0).openapi({ description: 'Seconds until the code expires (the whole code lifetime for a new session).', example: 90 }),
    expiresAt: z.iso.datetime().openapi({ example: '2026-11-22T12:01:30.000Z' }),
    maxReissues: z.int().min(0).openapi({ description: 'How many times an expired session may be reissued on this call.', example: 1 }),
    prompts: z.strictObject({
      speak: z.string().openapi({ description: 'Say once: the code, its digits separated.', example: 'Your code is 4, 8, 2, 9, 1, 3. Enter it in the Vaultline app now.' }),
      loop: z.string().openapi({ description: 'Say on each turn of the wait loop.', example: 'We are waiting for your confirmation in the Vaultline app.' }),
      locale: z.string().openapi({ description: 'Extension: the language the prompts are in.', example: 'en-US' }),
    }),
    pollAfterMs: z.int().min(0).openapi({ description: 'Wait this long between polls.', example: 2000 }),
  })
  .openapi('SessionCreated');
export type SessionCreated = z.infer<typeof sessionCreated>;

export const sessionPoll = z
  .strictObject({
    sessionId,
    status: sessionStatus,
    terminal: z.boolean(),
    pollAfterMs: z.int().min(0).openapi({ example: 2000 }),
    remainingMs: z.int().min(0).openapi({ description: 'Milliseconds until the code expires; 0 once terminal.', example: 61500 }),
    callToken: z.string().optional().openapi({ description: 'Only on `confirmed`: the call-bound token (`Bearer`) for the protected actions of this call.' }),
  })
  .openapi('SessionPoll');
export type SessionPoll = z.infer<typeof sessionPoll>;

export const callVerification = z
  .strictObject({
    callId: callIdSchema,
    verified: z.boolean().openapi({
      description:
        'True while the call is verified right now: a session of this call is `confirmed`, its call-bound token was issued and is still live (at most 5 minutes), and the call has not ended. The same test the protected actions make.',
    }),
    recentlyVerified: z
      .strictObject({
        at: z.iso.datetime().openapi({ description: 'When the customer confirmed the code, by the store\'s clock.', example: '2026-11-22T12:01:30.000Z' }),
        expiresAt: z.iso.datetime().openapi({ description: 'The mark lasts 10 minutes; after that it is gone from this answer.', example: '2026-11-22T12:11:30.000Z' }),
        customerId: z.string().openapi({ description: 'The customer whose enrolled device confirmed the code.', example: 'cust_001' }),
        caseId: z.string().optional().openapi({ description: 'The `metadata.caseId` given when the session was created, if any.', example: 'CASE-20461' }),
      })
      .optional()
      .openapi({
        description:
          'Only with `LATE_CONFIRMATION_POLICY=recently-verified`: the customer confirmed the right code less than 120 s after the call ended (or the call was gone when the app tried to move it). Nothing was verified on the live call; it tells the agent of the call-back for this case who confirmed.',
      }),
  })
  .openapi('CallVerification');
export type CallVerification = z.infer<typeof callVerification>;

export const sessionCanceled = z.strictObject({ status: sessionStatus }).openapi('SessionCancelResult');
export type SessionCanceled = z.infer<typeof sessionCanceled>;

const accountIndex = z.int().min(1).max(9).optional().openapi({ description: 'The account\'s 1-based position (the menu digit); default 1.', example: 1 });

export const balanceBody = z.object({ callId: callIdSchema, accountIndex }).openapi('BalanceRequest');
export type BalanceBody = z.infer<typeof balanceBody>;

export const balanceResult = z
  .strictObject({
    speech: z.string().openapi({ example: 'The available balance in your account ending in 9 8 7 6 is $1,250.50.' }),
    maskedAccount: z.string().openapi({ example: '••••9876' }),
    amount: z.string().regex(/^-?\d+(\.\d+)?$/).openapi({ example: '1250.50' }),
    currency: z.string().regex(/^[A-Z]{3}$/).openapi({ example: 'USD' }),
  })
  .openapi('BalanceResult');
export type BalanceResult = z.infer<typeof balanceResult>;

export const statementSmsBody = z
  .object({
    callId: callIdSchema,
    accountIndex,
    period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/).optional().openapi({ description: 'YYYY-MM; default the latest statement.', example: '2026-10' }),
  })
  .openapi('StatementSmsRequest');
export type StatementSmsBody = z.infer<typeof statementSmsBody>;

export const statementSmsResult = z
  .strictObject({ sent: z.literal(true), maskedMobile: z.string().openapi({ example: '••••0101' }) })
  .openapi('StatementSmsResult');
export type StatementSmsResult = z.infer<typeof statementSmsResult>;

export const errorBody = z
  .strictObject({
    error: z.string().openapi({ description: 'A stable code: bad_request, unauthorized, not_found, conflict, idempotency_key_reused, idempotency_in_flight, rate_limited, unavailable, internal…', example: 'conflict' }),
    message: z.string().openapi({ description: 'Safe to show; never carries a code, a token or a number.' }),
  })
  .openapi('Error');
export type ErrorBody = z.infer<typeof errorBody>;

/** The body POSTed to a registered `callbackUrl` when a session reaches a terminal state. */
export const terminalCallback = z
  .strictObject({ sessionId, callId: callIdSchema, status: sessionStatus })
  .openapi('SessionTerminalCallback');
export type TerminalCallback = z.infer<typeof terminalCallback>;

export const sessionIdParams = z.object({ sessionId: z.string().max(128).openapi({ param: { name: 'sessionId', in: 'path' } }) });
export const callIdParams = z.object({ callId: callIdSchema.openapi({ param: { name: 'callId', in: 'path' } }) });
