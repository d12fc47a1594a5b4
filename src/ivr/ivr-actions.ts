import type { Audit } from '../audit/audit.js';
import type { EffectResult } from '../engine/types.js';
import type { Logger } from '../log/logger.js';
import { AppError } from '../shared/errors.js';
import type { Sessions } from '../verification/sessions.js';
import { actionOf, isActionName, type ActionOutcome } from './action-registry.js';
import type { ActionRunner } from './effects.js';
import type { ProtectedActions } from './protected-actions.js';
import { TurnBudgetSpentError, withinBudget } from './turn-budget.js';

/** Checks a call-bound token for a call (A7); throws AppError('unauthorized') when it is not good for it. */
export type VerifyCallToken = (token: string, expected: { callId: string }) => Promise<{ customerId: string; sessionId: string }>;

/**
 * The engine's actions for a phone call, run from the registry (src/ivr/action-registry.ts). The
 * confirmed session was checked by the effect runner; here the call-bound token minted at
 * confirmation is checked too, for this call, before the bank is asked anything (every protected
 * action checks both).
 */
export function createIvrActions(deps: {
  actions: ProtectedActions;
  sessions: Sessions;
  verifyToken: VerifyCallToken;
  audit: Audit;
  logger: Logger;
}): ActionRunner {
  const { actions, sessions, audit } = deps;

  async function tokenHolds(callId: string, sessionId: string): Promise<{ customerId: string } | null> {
    const token = await sessions.tokenOf(sessionId);
    try {
      if (!token) throw new AppError('unauthorized', 'no call token for this session');
      const claims = await deps.verifyToken(token, { callId });
      if (claims.sessionId !== sessionId) throw new AppError('unauthorized', 'token of another session');
      return claims;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      // The refusal's code, never its message: an audit reason is a code (src/audit/events.ts).
      const reason = (err as { reason?: string }).reason ?? err.code;
      // Once: the call stops counting as verified by that session, so the gate that follows opens a
      // new session (a new code) instead of sending the caller straight back to this refusal.
      await Promise.all([audit.record('token_rejected', { callId, sessionId, reason, channel: 'ivr' }), sessions.unverify(callId, sessionId)]);
      return null;
    }
  }

  return async (call, effect): Promise<EffectResult> => {
    const claims = await tokenHolds(call.callId, call.sessionId);
    if (!claims || claims.customerId !== call.customerId) return { kind: 'action.unverified' };
    // The validator refuses unknown names at load; a saved state from an older deploy could still name one.
    if (!isActionName(effect.action)) throw new Error(`no action named "${effect.action}"`);
    const definition = actionOf(effect.action);
    const answer = (outcome: ActionOutcome<string>): EffectResult => {
      const prompt = definition.prompts[outcome.prompt]?.key;
      if (prompt === undefined) throw new Error(`action "${effect.action}" answered with an undeclared prompt "${outcome.prompt}"`);
      return { kind: outcome.ok ? 'action.done' : 'action.failed', prompt, params: outcome.params };
    };
    const signal = call.signal;
    const protectedCall = {
      ...(signal ? { signal } : {}),
      callId: call.callId,
      customerId: call.customerId,
      sessionId: call.sessionId,
      accountIndex: ('accountIndex' in effect ? effect.accountIndex : undefined) ?? 1,
      locale: call.locale,
      ...(effect.types === undefined ? {} : { types: effect.types }),
      ...(effect.kind === 'action' && effect.period ? { period: effect.period } : {}),
    };
    try {
      // The turn's budget bounds each backend step even if a backend ignores its signal (A3: 10 s a turn).
      const before = definition.before;
      if (effect.kind !== 'action' && before) {
        // Before any question: e.g. a call past its 3 statement SMS is told so at once (A3).
        const early = await withinBudget(signal, () => before({ actions, call: protectedCall }));
        if (early) return answer(early);
      }
      if (effect.kind === 'accounts.list') {
        const listed = { customerId: call.customerId, ...(signal ? { signal } : {}), ...(effect.types === undefined ? {} : { types: effect.types }) };
        return { kind: 'accounts', accounts: await withinBudget(signal, () => actions.accounts(listed)) };
      }
      if (effect.kind === 'statements.list') {
        return { kind: 'periods', periods: await withinBudget(signal, () => actions.statementPeriods(protectedCall)) };
      }
      return answer(await withinBudget(signal, () => definition.run({ actions, call: protectedCall })));
    } catch (err) {
      // B3: the bank, the store or the SMS failed (also while listing the accounts): say so and go
      // back to the menu, the call stays up. Anything else is a bug and goes to the fail-closed path.
      if (!(err instanceof AppError)) throw err;
      const reason = err instanceof TurnBudgetSpentError ? 'turn_budget_spent' : err.code;
      deps.logger.warn({ callId: call.callId, action: effect.action, step: effect.kind, code: err.code, reason }, 'protected action failed');
      return { kind: 'action.failed', prompt: definition.prompts.failed.key, params: {} };
    }
  };
}
