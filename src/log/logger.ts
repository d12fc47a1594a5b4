import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Fields that never reach a log line whatever their value (B4 layer one). Layer two, the value
 * scrubber for strings, lives in `scrub.ts`.
 */
export const REDACT_PATHS = [
  'From', 'To', 'Caller', 'Called', 'Digits', 'SpeechResult', 'ForwardedFrom', 'CallerName',
  '*.From', '*.To', '*.Caller', '*.Called', '*.Digits', '*.SpeechResult', '*.ForwardedFrom', '*.CallerName',
  'req.headers.authorization', 'req.headers["x-twilio-signature"]', 'req.headers.cookie',
  'headers.authorization', 'headers["x-twilio-signature"]',
  'did', '*.did', 'token', '*.token', 'callToken', '*.callToken', 'jws', '*.jws',
  'accountNumber', '*.accountNumber', 'number', '*.number', 'mobile', '*.mobile', 'ani', '*.ani', 'dnis', '*.dnis',
  'password', 'secret', '*.secret', 'authToken', '*.authToken',
];

export function createLogger(options: { level: string; destination?: DestinationStream; scrub?: (s: string) => string }): Logger {
  const scrub = options.scrub;
  return pino(
    {
      level: options.level,
      base: { service: 'vaultline-ivr' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: scrub
        ? {
            // Layer two: values inside strings (a DID in a message, a number in an error text…).
            log: (obj) => scrubDeep(obj, scrub) as Record<string, unknown>,
          }
        : {},
      hooks: scrub
        ? {
            logMethod(args, method) {
              const scrubbed = args.map((a) => (typeof a === 'string' ? scrub(a) : a)) as Parameters<typeof method>;
              method.apply(this, scrubbed);
            },
          }
        : {},
    },
    options.destination,
  );
}

function scrubDeep(value: unknown, scrub: (s: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { type: value.name, message: scrub(value.message), code: (value as { code?: unknown }).code };
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, scrub, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, scrub, depth + 1);
  return out;
}
