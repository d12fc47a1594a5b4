import type { Request, RequestHandler, Response, Router } from 'express';
import type { Audit } from '../audit/audit.js';
import type { Metrics } from '../audit/metrics.js';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import { httpActor } from '../audit/http-actor.js';
import { callTag, sessionTagOf } from '../store/keys.js';
import type { RecentlyVerifiedCalls } from '../verification/recently-verified.js';
import { TERMINAL, type OpenOutcome, type Sessions, type SessionView } from '../verification/sessions.js';
import { clientOf } from './auth.js';
import { callbackUrlAllowed } from './callbacks.js';
import type { PromptCatalogue } from '../engine/catalogue.js';
import { promptsFor } from './prompts.js';
import type { ApiLimiter } from './rate-limit.js';
import type { ApiRecords } from './records.js';
import { callIdParams, createSessionBody, sessionIdParams, type CreateSessionBody, type SessionCanceled, type SessionCreated, type SessionPoll } from './schemas.js';
import type { TerminalNotifier } from './terminal.js';

export interface SessionRouteDeps {
  sessions: Sessions;
  /** Reads a session's case id back, to carry it over to a reissued session. */
  recentlyVerified: Pick<RecentlyVerifiedCalls, 'caseOf'>;
  audit: Audit;
  metrics: Metrics;
  clock: Clock;
  notifier: TerminalNotifier;
  records: ApiRecords;
  limiter: ApiLimiter;
  /** Basic auth, then the per-client limit. */
  authenticated: RequestHandler[];
  idempotent: RequestHandler;
  callTokenOf: (sessionId: string) => Promise<string | null>;
  catalogue: PromptCatalogue;
  pollAfterMs: number;
  maxReissues: number;
  reservedProviders: ReadonlySet<string>;
  allowLoopbackHttpCallbacks: boolean;
}

/** An API session belongs to the client that opened it: the channel names that client. */
export const channelOf = (clientId: string) => `api:${clientId}`;

const OPEN_REFUSALS: Record<Exclude<OpenOutcome['kind'], 'created' | 'existing'>, string> = {
  ended: 'This call has ended.',
  conflict: 'This call is already being verified through another provider.',
  limit: 'This call cannot have another code.',
  not_expired: 'The call\'s current session is not expired, so it cannot be reissued.',
  no_session: 'This call has no session to reissue.',
};

/** `metadata.caseId` (A4/A5: named when a late confirmation marks the call), the only metadata kept. */
function caseIdOf(metadata: CreateSessionBody['metadata']): { caseId?: string } {
  const value = metadata?.caseId;
  return typeof value === 'string' || typeof value === 'number' ? (String(value) ? { caseId: String(value) } : {}) : {};
}

/** A9: the API client that made this request, and its address. */
const actorOf = (req: Request, res: Response) => httpActor(req, { type: 'api-client', id: clientOf(res) });

/** Sessions and calls (A5): create, poll, cancel, reissue, call end. */
export function mountSessionRoutes(router: Router, deps: SessionRouteDeps): void {
  const { sessions, audit, metrics, notifier, records, limiter } = deps;
  const bySessionTag = limiter.perCall((req) => sessionTagOf(String(req.params.sessionId)));
  const byCallParam = limiter.perCall((req) => callTag(String(req.params.callId)));
  const byCallInBody = limiter.perCall((req) => {
    const callId: unknown = (req.body as { callId?: unknown } | undefined)?.callId;
    return typeof callId === 'string' ? callTag(callId) : undefined;
  });

  const createdView = (session: SessionView, did: string, locale: string | undefined): SessionCreated => ({
    sessionId: session.sessionId,
    did,
    status: session.status,
    // The store's clock says how long is left (DESIGN B2), never this instance's.
    ttlSeconds: Math.ceil(session.remainingMs / 1000),
    expiresAt: new Date(session.expiresAt).toISOString(),
    maxReissues: deps.maxReissues,
    prompts: promptsFor(deps.catalogue, did, locale),
    pollAfterMs: deps.pollAfterMs,
  });

  /** The session, if it exists and this client opened it; one 404 for both so ids of others stay unknown. */
  const owned = async (req: Request, res: Response): Promise<SessionView> => {
    const { sessionId } = sessionIdParams.parse(req.params);
    const session = await sessions.get(sessionId);
    if (!session || session.channel !== channelOf(clientOf(res))) throw new AppError('not_found', 'No such session.');
    return session;
  };

  router.post('/sessions', ...deps.authenticated, byCallInBody, deps.idempotent, async (req, res) => {
    const body = createSessionBody.parse(req.body);
    if (deps.reservedProviders.has(body.provider.toLowerCase())) {
      throw new AppError('bad_request', `provider "${body.provider}" is reserved; name your platform (e.g. genesys-cloud).`);
    }
    if (body.callbackUrl !== undefined && !callbackUrlAllowed(body.callbackUrl, deps.allowLoopbackHttpCallbacks)) {
      throw new AppError('bad_request', 'callbackUrl must be an https URL without credentials.');
    }
    const clientId = clientOf(res);
    const by = httpActor(req, { type: 'api-client', id: clientId });
    const opened = await sessions.open({ provider: body.provider, callId: body.callId, channel: channelOf(clientId), ...caseIdOf(body.metadata) });
    if (opened.kind !== 'created' && opened.kind !== 'existing') throw new AppError('conflict', OPEN_REFUSALS[opened.kind]);
    const { session, did } = opened;
    if (session.channel !== channelOf(clientId)) throw new AppError('conflict', 'This call is being verified by another API client.');
    const locale = deps.catalogue.locale(body.locale);
    await records.save(session.sessionId, { clientId, locale, ...(body.callbackUrl ? { callbackUrl: body.callbackUrl } : {}) }, session.expiresAt);
    const ids = { sessionId: session.sessionId };
    if (opened.kind === 'created') {
      // One label for the API: provider names come from clients, and label values must stay few.
      metrics.sessionsCreated.inc({ channel: 'api' });
      await audit.record('session_created', { callId: session.callId, ...ids, provider: body.provider, clientId, expiresAt: new Date(session.expiresAt).toISOString(), ...by });
    }
    await audit.record('did_issued', { callId: session.callId, ...ids, ...by });
    res.status(opened.kind === 'created' ? 201 : 200).json(createdView(session, did, body.locale));
  });

  router.get('/sessions/:sessionId', ...deps.authenticated, bySessionTag, async (req, res) => {
    const session = await owned(req, res);
    const terminal = TERMINAL.has(session.status);
    await audit.record('loop_iteration', { callId: session.callId, sessionId: session.sessionId, status: session.status, via: 'api', ...actorOf(req, res) });
    // A poll may be the first to see an expiry: it records the timeout and fires the callback, once.
    if (terminal) await notifier.notifyTerminal(session);
    const answer: SessionPoll = {
      sessionId: session.sessionId,
      status: session.status,
      terminal,
      pollAfterMs: deps.pollAfterMs,
      remainingMs: terminal ? 0 : session.remainingMs,
    };
    if (session.status === 'confirmed') {
      const token = await deps.callTokenOf(session.sessionId);
      if (token !== null) answer.callToken = token;
    }
    res.json(answer);
  });

  router.post('/sessions/:sessionId/cancel', ...deps.authenticated, bySessionTag, deps.idempotent, async (req, res) => {
    const session = await owned(req, res);
    const status = await sessions.cancel(session.sessionId);
    if (status === null) throw new AppError('not_found', 'No such session.');
    await notifier.notifyTerminal({ ...session, status }, actorOf(req, res));
    res.json({ status } satisfies SessionCanceled);
  });

  router.post('/sessions/:sessionId/reissue', ...deps.authenticated, bySessionTag, deps.idempotent, async (req, res) => {
    const expired = await owned(req, res);
    if (expired.status !== 'expired') throw new AppError('conflict', 'Only an expired session can be reissued.');
    await notifier.notifyTerminal(expired);
    const clientId = clientOf(res);
    const by = httpActor(req, { type: 'api-client', id: clientId });
    const caseId = await deps.recentlyVerified.caseOf(expired.sessionId);
    const reissued = await sessions.reissue({ provider: expired.provider, callId: expired.callId, channel: channelOf(clientId), ...(caseId ? { caseId } : {}) }, deps.maxReissues);
    if (reissued.kind !== 'created' && reissued.kind !== 'existing') throw new AppError('conflict', OPEN_REFUSALS[reissued.kind]);
    const { session, did } = reissued;
    if (session.channel !== channelOf(clientId)) throw new AppError('conflict', 'This call is being verified by another API client.');
    const before = await records.read(expired.sessionId);
    const locale = before?.locale;
    await records.save(session.sessionId, { clientId, locale: deps.catalogue.locale(locale), ...(before?.callbackUrl ? { callbackUrl: before.callbackUrl } : {}) }, session.expiresAt);
    const ids = { sessionId: session.sessionId };
    if (reissued.kind === 'created') {
      metrics.sessionsCreated.inc({ channel: 'api' });
      await audit.record('reissued', { callId: session.callId, ...ids, previousSessionId: expired.sessionId, ...by });
      await audit.record('session_created', { callId: session.callId, ...ids, provider: session.provider, clientId, expiresAt: new Date(session.expiresAt).toISOString(), ...by });
    }
    await audit.record('did_issued', { callId: session.callId, ...ids, ...by });
    res.status(reissued.kind === 'created' ? 201 : 200).json(createdView(session, did, locale));
  });

  router.post('/calls/:callId/end', ...deps.authenticated, byCallParam, deps.idempotent, async (req, res) => {
    const { callId } = callIdParams.parse(req.params);
    const currentId = await sessions.currentOf(callId);
    const current = currentId ? await sessions.get(currentId) : null;
    // A call verified by another client (or by the Twilio IVR) is not this client's to end.
    if (current && current.channel !== channelOf(clientOf(res))) throw new AppError('not_found', 'No such call.');
    const ended = await sessions.endCall(callId, current?.provider ?? 'api');
    if (ended.firstTime) {
      if (ended.endedSessionId) metrics.sessionOutcomes.inc({ status: 'call_ended' });
      const outcome = await audit.outcomeOf(callId, false);
      await audit.record('call_ended', { callId, ...(ended.endedSessionId ? { sessionId: ended.endedSessionId } : {}), outcome, via: 'api', ...actorOf(req, res) });
    }
    if (ended.endedSessionId) {
      const session = await sessions.get(ended.endedSessionId);
      if (session) await notifier.notifyTerminal(session);
    }
    // Through res.json so the Idempotency-Key layer stores it; Express sends no body with a 204.
    res.status(204).json(null);
  });
}
