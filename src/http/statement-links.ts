import { createHash } from 'node:crypto';
import { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Audit } from '../audit/audit.js';
import { sourceIpOf } from '../audit/http-actor.js';
import type { Logger } from '../log/logger.js';
import { isLinkTokenShape, type StatementLinks } from '../statements/links.js';
import type { RedisClient } from '../store/client.js';

/**
 * DESIGN A8: `GET /s/{token}` shows a page with a Download button and never spends the link (SMS
 * link-preview bots fetch URLs); `POST /s/{token}` spends it atomically and answers 303 to a
 * short-lived presigned URL. Spent, expired and unknown links get one identical 410 page.
 */
export interface StatementLinkRouterDeps {
  links: StatementLinks;
  /** A presigned GET (≤ 60 s) for a statement store key, offered for download as `filename`. */
  statementUrl: (file: string, filename: string) => Promise<string>;
  audit: Audit;
  logger: Logger;
  limiter: {
    redis: RedisClient;
    /** `keys.limiter('link-ip')`. */
    keyPrefix: string;
    /** Requests per IP per window; default 30 a minute. */
    points?: number;
    durationSeconds?: number;
  };
}

type Lang = 'en' | 'es';

const TEXT = {
  en: {
    readyTitle: 'Your statement',
    ready: 'Your Vaultline Bank statement is ready. This link works once and expires soon.',
    button: 'Download statement (PDF)',
    goneTitle: 'Link no longer available',
    gone: 'This statement link has already been used or has expired. Call us to get a new one.',
    busyTitle: 'Too many requests',
    busy: 'Too many attempts from your network. Wait a minute and try again.',
    downTitle: 'Temporarily unavailable',
    down: 'We cannot get your statement right now. Try again in a few minutes.',
  },
  es: {
    readyTitle: 'Su estado de cuenta',
    ready: 'Su estado de cuenta de Vaultline Bank está listo. Este enlace funciona una sola vez y vence pronto.',
    button: 'Descargar estado de cuenta (PDF)',
    goneTitle: 'Enlace no disponible',
    gone: 'Este enlace ya se usó o venció. Llámenos para obtener uno nuevo.',
    busyTitle: 'Demasiadas solicitudes',
    busy: 'Demasiados intentos desde su red. Espere un minuto y vuelva a intentarlo.',
    downTitle: 'No disponible por el momento',
    down: 'No podemos obtener su estado de cuenta ahora. Inténtelo de nuevo en unos minutos.',
  },
} as const;

const CSS =
  'body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f6f8;color:#1b2733}' +
  'main{max-width:28rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px #0002}' +
  'h1{font-size:1.3rem;margin:0 0 1rem}p{line-height:1.5}.bank{color:#0b5cab;font-weight:600;margin:0 0 .5rem}' +
  'button{font-size:1rem;padding:.8rem 1.2rem;border:0;border-radius:8px;background:#0b5cab;color:#fff;cursor:pointer;width:100%}';
/** The only style allowed by the page's CSP: no scripts, no external fonts or CDNs, no frames. */
const CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'; base-uri 'none'; frame-ancestors 'none'`;

function page(lang: Lang, title: string, body: string): string {
  return (
    `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex,nofollow">` +
    `<title>${title}</title><style>${CSS}</style></head>` +
    `<body><main><p class="bank">Vaultline Bank</p><h1>${title}</h1>${body}</main></body></html>`
  );
}

// No `action`: the form posts to the page's own URL, so the token appears nowhere in the page.
const readyPage = (l: Lang) => page(l, TEXT[l].readyTitle, `<p>${TEXT[l].ready}</p><form method="post"><button type="submit">${TEXT[l].button}</button></form>`);
const gonePage = (l: Lang) => page(l, TEXT[l].goneTitle, `<p>${TEXT[l].gone}</p>`);
const busyPage = (l: Lang) => page(l, TEXT[l].busyTitle, `<p>${TEXT[l].busy}</p>`);
const downPage = (l: Lang) => page(l, TEXT[l].downTitle, `<p>${TEXT[l].down}</p>`);

const langOf = (req: Request): Lang => (req.acceptsLanguages('en', 'es') === 'es' ? 'es' : 'en');

const html = (res: Response, status: number, body: string) => res.status(status).type('html').send(body);

/** Every answer, including errors: never cached, never indexed, never leaks the URL as a referrer. */
const privateHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Cache-Control': 'no-store',
    'X-Robots-Tag': 'noindex, nofollow',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': CSP,
  });
  next();
};

export function createStatementLinkRouter(deps: StatementLinkRouterDeps): Router {
  const { links, statementUrl, audit } = deps;
  const log = deps.logger.child({ component: 'statement-links' });
  const limiter = new RateLimiterRedis({
    storeClient: deps.limiter.redis,
    keyPrefix: deps.limiter.keyPrefix,
    points: deps.limiter.points ?? 30,
    duration: deps.limiter.durationSeconds ?? 60,
    // The store is the one counter all instances share.
    inMemoryBlockOnConsumed: 0,
  });

  /** Shape first (no store I/O for garbage), then the per-IP limit; false = answered already. */
  const admit = async (req: Request<{ token: string }>, res: Response): Promise<boolean> => {
    if (!isLinkTokenShape(req.params.token)) {
      log.info({ reason: 'malformed' }, 'statement link refused');
      html(res, 410, gonePage(langOf(req)));
      return false;
    }
    try {
      // The client's address (TRUST_PROXY hops of X-Forwarded-For believed), so one address cannot block the others.
      await limiter.consume(req.ip ?? 'unknown');
      return true;
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      res.set('Retry-After', String(Math.max(1, Math.ceil(err.msBeforeNext / 1000))));
      log.warn('statement link rate limit reached');
      html(res, 429, busyPage(langOf(req)));
      return false;
    }
  };

  const router = Router();
  router.use(privateHeaders);

  router.get('/:token', async (req, res) => {
    if (!(await admit(req, res))) return;
    const state = await links.peek(req.params.token);
    html(res, state === 'live' ? 200 : 410, state === 'live' ? readyPage(langOf(req)) : gonePage(langOf(req)));
  });

  router.post('/:token', async (req, res) => {
    if (!(await admit(req, res))) return;
    const result = await links.trySpend(req.params.token);
    if (result.outcome === 'unknown') {
      log.info({ reason: 'unknown' }, 'statement link refused');
      html(res, 410, gonePage(langOf(req)));
      return;
    }
    if (result.outcome === 'refused') {
      // A refusal whose link no longer names its call (the record outlived by its expiry) is a log line only.
      if (result.callId) await audit.record('statement_link_refused', { callId: result.callId, reason: result.reason, sourceIp: sourceIpOf(req) });
      else log.info({ reason: result.reason }, 'statement link refused');
      html(res, 410, gonePage(langOf(req)));
      return;
    }
    const { link } = result;
    await audit.record('statement_link_spent', { callId: link.callId, period: link.period, sourceIp: sourceIpOf(req) });
    const url = await statementUrl(link.file, `vaultline-statement-${link.period}.pdf`);
    // Not res.redirect(): it would echo the presigned URL into an HTML body as well.
    res.status(303).location(url).end();
  });

  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    if (res.headersSent) return;
    // The router could not percent-decode the token (`/s/%E0%A4%A`): a malformed link, the same 410
    // as any other. Its message quotes the token, so it is not logged.
    if (err instanceof URIError) {
      log.info({ reason: 'malformed' }, 'statement link refused');
      html(res, 410, gonePage(langOf(req)));
      return;
    }
    // The error names a store or storage failure, never the token (it is only ever hashed).
    log.error({ err }, 'statement link request failed');
    html(res, 503, downPage(langOf(req)));
  };
  router.use(onError);
  return router;
}
