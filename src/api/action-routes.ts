import type { Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import type { Audit } from '../audit/audit.js';
import { httpActor, sourceIpOf } from '../audit/http-actor.js';
import type { ProtectedActions, ProtectedCall } from '../ivr/protected-actions.js';
import type { Logger } from '../log/logger.js';
import { AppError } from '../shared/errors.js';
import { callTag } from '../store/keys.js';
import type { Sessions } from '../verification/sessions.js';
import { isOurTokenRefused } from '../verification/call-token.js';
import { bearerToken, setClient } from './auth.js';
import type { ApiLimiter } from './rate-limit.js';
import type { CredentialRefusals } from './refusals.js';
import type { ApiRecords } from './records.js';
import { balanceBody, statementSmsBody, type BalanceResult, type StatementSmsResult } from './schemas.js';

/** What a verified call token says (A7); the token module's `verify` resolves to at least this. */
export interface CallTokenClaims {
  customerId: string;
  callId: string;
  sessionId: string;
}

export type VerifyCallToken = (token: string, request: { callId: string }) => Promise<CallTokenClaims>;

export interface ActionRouteDeps {
  sessions: Sessions;
  audit: Audit;
  logger: Logger;
  records: ApiRecords;
  limiter: ApiLimiter;
  refusals: CredentialRefusals;
  idempotent: RequestHandler;
  verifyCallToken: VerifyCallToken;
  actions: ProtectedActions;
}

const REFUSED = 'The call token is not valid for this call.';

/**
 * Balance and statement SMS (A5) with `Authorization: Bearer <callToken>`. The token is the only
 * credential here (one Authorization header cannot carry Basic too): it was handed only to the
 * client that opened the session, and the API client is taken from that session.
 */
export function mountActionRoutes(router: Router, deps: ActionRouteDeps): void {
  const { sessions, audit, records, limiter, refusals } = deps;
  const log = deps.logger.child({ component: 'api-actions' });

  const protectedRoute = <S extends typeof balanceBody | typeof statementSmsBody>(
    schema: S,
    run: (call: ProtectedCall, body: z.infer<S>) => Promise<unknown>,
  ): RequestHandler[] => [
    // 1. A token at all (401), 2. a valid body (400), 3. the token for this call (401), and only
    // then 4. the client's and the call's limits: junk never counts against a genuine client or call.
    (req, res, next) => {
      if (bearerToken(req) !== undefined) return next();
      next(refusals.refuse(req, res, { scheme: 'Bearer', reason: 'missing', message: 'A call token is required (Authorization: Bearer).' }).error);
    },
    (req, res, next) => {
      res.locals.apiBody = schema.parse(req.body);
      next();
    },
    async (req, res, next) => {
      const { callId } = res.locals.apiBody as { callId: string };
      res.locals.protectedCall = await checkToken(bearerToken(req) as string, callId, req, res);
      next();
    },
    limiter.perClient,
    limiter.perCall((_req, res) => callTag((res.locals.apiBody as { callId: string }).callId)),
    deps.idempotent,
    async (_req, res) => {
      res.json(await run(res.locals.protectedCall as ProtectedCall, res.locals.apiBody as z.infer<S>));
    },
  ];

  /**
   * The token must verify for this call (signature, `cid`, call not ended: the token module), and
   * the call must still be verified by the very session and customer the token names: the router
   * checks that itself, so an ended call or a newer verification refuses an older token even if the
   * token module were to let it through. Only a token we signed that is refused is a `token_rejected`
   * event (A9); anything else in the header is a log line, and no refusal writes past the address's budget.
   */
  async function checkToken(token: string, callId: string, req: Request, res: Response): Promise<ProtectedCall> {
    const refuse = async (reason: string, ours: boolean, sessionId?: string): Promise<never> => {
      const { error, withinBudget } = refusals.refuse(req, res, { scheme: 'Bearer', reason, message: REFUSED, invalidToken: true });
      if (ours && withinBudget) {
        log.info({ callId, reason }, 'call token refused');
        // The client is not known from a refused token: where it came from is.
        await audit.record('token_rejected', { callId, ...(sessionId ? { sessionId } : {}), reason, via: 'api', sourceIp: sourceIpOf(req) });
      }
      throw error;
    };
    let claims: CallTokenClaims;
    try {
      claims = await deps.verifyCallToken(token, { callId });
    } catch (err) {
      // Only a refusal is a refusal; a store outage propagates and fails closed as a 503.
      if (!(err instanceof AppError) || err.code !== 'unauthorized') throw err;
      const reason = (err as { reason?: unknown }).reason;
      return refuse(typeof reason === 'string' ? reason : 'invalid', typeof reason === 'string' && isOurTokenRefused(reason));
    }
    const verified = await sessions.verifiedCustomer(callId);
    if (!verified || verified.sessionId !== claims.sessionId || verified.customerId !== claims.customerId) {
      return refuse('not_verified', true, claims.sessionId);
    }
    const record = await records.read(claims.sessionId);
    if (!record) return refuse('not_api_session', true, claims.sessionId);
    setClient(res, record.clientId);
    return { callId, customerId: claims.customerId, sessionId: claims.sessionId, locale: record.locale, by: httpActor(req, { type: 'api-client', id: record.clientId }) };
  }

  router.post(
    '/balance',
    ...protectedRoute(balanceBody, async (call, body): Promise<BalanceResult> => {
      const a = await deps.actions.balance({ ...call, accountIndex: body.accountIndex ?? 1 });
      return { speech: a.speech, maskedAccount: a.maskedAccount, amount: a.amount, currency: a.currency };
    }),
  );

  router.post(
    '/statements/sms',
    ...protectedRoute(statementSmsBody, async (call, body): Promise<StatementSmsResult> => {
      const a = await deps.actions.statementSms({ ...call, accountIndex: body.accountIndex ?? 1, ...(body.period ? { period: body.period } : {}) });
      return { sent: true, maskedMobile: a.maskedMobile };
    }),
  );
}
