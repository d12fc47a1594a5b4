import { performance } from 'node:perf_hooks';
import { type ErrorRequestHandler, type Request, type Response, Router } from 'express';
import type { Audit } from '../../audit/audit.js';
import { maskPhone } from '../../audit/events.js';
import type { Metrics } from '../../audit/metrics.js';
import type { CallState, EngineInput } from '../../engine/types.js';
import { isStoreError } from '../../http/json-errors.js';
import { degradedReason, type DegradedMode } from '../../ivr/degraded.js';
import type { IvrDriver, Turn } from '../../ivr/driver.js';
import type { CallRef } from '../../ivr/effects.js';
import type { Logger } from '../../log/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { Sessions } from '../../verification/sessions.js';
import { deliveryDigest, type Binding, type Channel, type TurnOutcome, type Turns } from '../../ivr/turns.js';
import { startTurnBudget } from '../../ivr/turn-budget.js';
import { TWILIO_FORM_LIMITS, twilioFormBody } from './form-body.js';
import { createWebhookRefusals } from './refusals.js';
import { twilioSignature } from './signature.js';
import { createStoreless, type Carried } from './storeless.js';
import { emptyTwiml, failClosedTwiml, redirectTwiml, renderTwiml } from './twiml.js';

export interface FailClosedSpeech {
  text: string;
  locale: string;
  queue: string;
}

export interface TwilioWebhookDeps {
  publicBaseUrl: string;
  authToken: string;
  driver: IvrDriver;
  turns: Turns;
  sessions: Sessions;
  audit: Audit;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  failClosed: FailClosedSpeech;
  /** A turn's budget end to end (A3: 10 s); tests of the budget pass a shorter one. */
  turnBudgetMs?: number;
  /** FAIL_MODE=open-low-risk (DESIGN A10); absent with `closed`, which answers every store failure with the apology. */
  degraded?: DegradedMode;
}

const PROVIDER = 'twilio';
const FINAL_CALL_STATUSES = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);
const CALL_SID = /^[A-Za-z0-9_-]{10,64}$/;

/** The URLs we hand Twilio: always absolute, always under PUBLIC_BASE_URL (DESIGN A3). */
export function twilioUrls(publicBaseUrl: string) {
  return {
    step: (turn: number) => `${publicBaseUrl}/twilio/step?t=${turn}`,
    verified: (sessionId: string) => `${publicBaseUrl}/twilio/verified?s=${encodeURIComponent(sessionId)}`,
    /** "Carry on where the call is": bound to the turn the call is at (or will be at) when Twilio fetches it. */
    resume: (turn: number) => `${publicBaseUrl}/twilio/resume?t=${turn}`,
  };
}

/**
 * Twilio Voice webhooks: signature first, then dedup, then the provider-neutral IVR driver; the
 * answer is always TwiML. Twilio exists only under src/telephony/twilio (STYLE habit 5).
 */
export function createTwilioWebhooks(deps: TwilioWebhookDeps): Router {
  const urls = twilioUrls(deps.publicBaseUrl);
  const router = Router();
  // The turn's 10 s start when the request does, before its body is read.
  router.use((_req, res, next) => {
    res.locals.turnStartedAt = performance.now();
    next();
  });
  // Nothing with an effect before the signature: the body is read and parsed (413/400), then checked (403).
  const refuse = createWebhookRefusals(deps);
  router.use(...twilioFormBody(TWILIO_FORM_LIMITS, refuse));
  router.use(twilioSignature({ authToken: deps.authToken, publicBaseUrl: deps.publicBaseUrl, refuse }));
  const storeless = deps.degraded
    ? createStoreless({ mode: deps.degraded, audit: deps.audit, metrics: deps.metrics, stepUrl: urls.step, failClosed: deps.failClosed })
    : undefined;
  const NOTHING_CARRIED: Carried = { kind: 'none' };

  /** The turn as TwiML; a transfer is an audit event, a hang-up by the IVR is kept for the call's outcome. */
  const render = async (call: { callId: string }, turn: Turn): Promise<TurnOutcome> => {
    const { wait } = turn;
    if (wait.kind === 'transfer') {
      const sessionId = turn.state.verify?.sessionId;
      await deps.audit.record('transfer', { callId: call.callId, ...(sessionId ? { sessionId } : {}), queue: wait.queue, verified: wait.verified });
    }
    const state = wait.kind === 'hangup' ? { ...turn.state, ivrHungUp: true } : turn.state;
    // With open-low-risk a low-risk turn's URL carries its state, so the next turn survives a store outage.
    const action = storeless ? storeless.actionUrl(call.callId, state) : urls.step(state.turn);
    return { answer: renderTwiml(turn.outputs, wait, action), state };
  };

  /**
   * Reads the call, runs `produce` once per delivery (retries replay) when the delivery is for the
   * call's current turn, answers TwiML. A stale delivery runs nothing and is told where the call is.
   * With open-low-risk, a turn the store fails is answered without it (`inputOf` says what the caller
   * did), and a state the URL carries stands in for one the store lost or is behind on (A10).
   */
  const webhook =
    (
      channel: Channel,
      bindingOf: (req: Request) => Binding,
      produce: (call: CallRef, params: Record<string, string>, state: CallState | null) => Promise<TurnOutcome>,
      inputOf?: (params: Record<string, string>) => EngineInput,
    ) =>
    async (req: Request, res: Response) => {
      const params = req.body as Record<string, string>;
      const callId = params.CallSid;
      res.type('text/xml');
      if (!callId || !CALL_SID.test(callId)) {
        res.status(400).send(emptyTwiml());
        return;
      }
      // Right after the signature and before any store work: a carried state we did not seal for this
      // call, route and turn is refused like a bad signature (A10), with no effect.
      const carried = storeless && inputOf ? storeless.carried(req, callId) : NOTHING_CARRIED;
      if (carried.kind === 'refused') {
        refuse(req, res, 403, 'sealed_state');
        return;
      }
      const binding = bindingOf(req);
      const digest = deliveryDigest(req.originalUrl, params);
      const budget = startTurnBudget(res.locals.turnStartedAt as number, deps.turnBudgetMs);
      const call = { callId, provider: PROVIDER, signal: budget.signal };
      const fromUrl = carried.kind === 'state' ? carried.state : null;
      const once = () => deps.turns.once(callId, channel, digest, binding, (state) => produce(call, params, state ?? fromUrl));
      let result: Awaited<ReturnType<typeof once>>;
      try {
        result = await once();
        if (result.kind === 'stale' && fromUrl && result.turn < fromUrl.turn) {
          // The store is back, behind the turns served without it: the URL's state is the call's again.
          await deps.turns.adopt(callId, fromUrl);
          result = await once();
        }
      } catch (err) {
        if (!storeless || !isStoreError(err)) throw err;
        const reason = degradedReason(err);
        if (inputOf) res.send(storeless.voice(callId, carried, inputOf(params), reason, budget.left()));
        else {
          if (FINAL_CALL_STATUSES.has(params.CallStatus ?? '')) await storeless.callEnded(callId, params, reason);
          res.send(emptyTwiml());
        }
        return;
      } finally {
        budget.end();
      }
      switch (result.kind) {
        case 'answer':
          res.send(result.answer);
          return;
        case 'busy':
          // The first delivery will end its turn; look again at the turn it leads to.
          res.send(redirectTwiml(urls.resume(result.turn + 1)));
          return;
        case 'stale':
          // A stale action URL or a captured request replayed: no effect, no event, one line (DESIGN A3).
          deps.logger.warn({ callId, path: req.path, binding: bindingLabel(binding), currentTurn: result.turn }, 'stale webhook: answered with the current turn, nothing ran');
          res.send(redirectTwiml(urls.resume(result.turn), 0));
          return;
      }
    };

  // `To` is the number the caller dialled: the main flow's `numbers` may route it to a flow or locale.
  router.post(
    '/voice',
    webhook('voice', () => ({ kind: 'new' }), async (call, params, state) => {
      // PCI DSS 3.4.1 / A9: the numbers only as their last four.
      if (!state) await deps.audit.record('call_started', { callId: call.callId, maskedCaller: maskPhone(params.From), maskedDialled: maskPhone(params.To), provider: call.provider });
      return render(call, await deps.driver.start(call, state, params.To ? { dialled: params.To } : {}));
    }, (params) => {
      if (storeless) deps.audit.recordDirect('call_started', { callId: params.CallSid ?? '', maskedCaller: maskPhone(params.From), maskedDialled: maskPhone(params.To), provider: PROVIDER });
      return { kind: 'start', ...(params.To ? { dialled: params.To } : {}) };
    }),
  );

  router.post(
    '/step',
    webhook('voice', turnOf, async (call, params, state) => render(call, await deps.driver.input(call, state, digitsOf(params))), digitsOf),
  );

  // Where the live call lands after a confirmation (the intercept), and the generic "look again".
  const resume = (): EngineInput => ({ kind: 'resume' });
  router.post('/verified', webhook('voice', gateOf, async (call, _params, state) => render(call, await deps.driver.input(call, state, resume())), resume));
  router.post('/resume', webhook('voice', turnOf, async (call, _params, state) => render(call, await deps.driver.input(call, state, resume())), resume));

  router.post(
    '/status',
    webhook('status', () => ({ kind: 'any' }), async (call, params, state) => {
      const callStatus = params.CallStatus ?? '';
      if (FINAL_CALL_STATUSES.has(callStatus)) {
        const ended = await deps.sessions.endCall(call.callId, call.provider);
        if (ended.firstTime) {
          if (ended.endedSessionId) deps.metrics.sessionOutcomes.inc({ status: 'call_ended' });
          const seconds = Number(params.CallDuration);
          await deps.audit.record('call_ended', {
            callId: call.callId,
            ...(ended.endedSessionId ? { sessionId: ended.endedSessionId } : {}),
            outcome: await deps.audit.outcomeOf(call.callId, state?.ivrHungUp === true),
            ...(Number.isInteger(seconds) && seconds >= 0 ? { durationMs: seconds * 1000 } : {}),
            callStatus: callStatus.replace(/-/g, '_'),
          });
        }
      }
      return { answer: emptyTwiml() };
    }),
  );

  router.use((_req, res) => {
    res.status(404).type('text/xml').send(emptyTwiml());
  });
  router.use(twimlErrorHandler(deps));
  return router;
}

const TURN = /^\d{1,9}$/;

/** The caller's keys (at most 32 of 0-9 * #), or silence. */
function digitsOf(params: Record<string, string>): EngineInput {
  const digits = (params.Digits ?? '').replace(/[^0-9*#]/g, '').slice(0, 32);
  return digits ? { kind: 'digits', digits } : { kind: 'no_input' };
}

/** `?t=N` of the URLs we built; anything else (missing, repeated, not a number) matches no turn. */
function turnOf(req: Request): Binding {
  const t = req.query.t;
  return { kind: 'turn', turn: typeof t === 'string' && TURN.test(t) ? Number(t) : Number.NaN };
}

/** `?s=<session id>` of the intercept's URL. */
function gateOf(req: Request): Binding {
  const s = req.query.s;
  return { kind: 'gate', sessionId: typeof s === 'string' ? s : '' };
}

const bindingLabel = (b: Binding): string =>
  b.kind === 'turn' ? `turn ${Number.isNaN(b.turn) ? '?' : b.turn}` : b.kind === 'gate' ? 'gate' : b.kind;

/** Any failure on a /twilio route answers safe TwiML: an apology and the agent queue, never a 500. */
function twimlErrorHandler(deps: TwilioWebhookDeps): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const sid: unknown = req.body?.CallSid;
    // Only a well-formed call id names a call in the trail; anything else stays a log line.
    const callId = typeof sid === 'string' && CALL_SID.test(sid) ? sid : undefined;
    const storeDown = isStoreError(err);
    deps.metrics.failClosed.inc();
    deps.logger.error({ err, callId: callId ?? 'unknown', path: req.path }, storeDown ? 'store unavailable: failing closed' : 'webhook failed: failing closed');
    const answer = () => {
      if (!res.headersSent) res.status(200).type('text/xml').send(failClosedTwiml(deps.failClosed.text, deps.failClosed.locale, deps.failClosed.queue));
    };
    if (!callId) return answer();
    if (storeDown) {
      // A10: the store is the failure, so the event goes to the trail without it (its log line now).
      deps.audit.recordDirect('fail_closed', { callId, reason: 'store_unavailable' });
      return answer();
    }
    // The store works: the event joins the call's timeline before the caller hears the apology.
    deps.audit.record('fail_closed', { callId, reason: 'internal_error' }).then(answer, (recordErr: unknown) => {
      deps.logger.error({ err: recordErr, callId }, 'could not record fail_closed');
      deps.audit.recordDirect('fail_closed', { callId, reason: 'internal_error' });
      answer();
    });
  };
}
