/**
 * `npm run call`: a terminal softphone for the built-in phone simulator of a running `npm start`.
 *
 *   npm run call                                   interactive: keys 0-9 * #, Enter = stay silent, q or Ctrl-C = hang up
 *   npm run call -- --keys 1,wait:2s,1 --expect code --expect verified
 *   npm run call -- --keys 1,until:verified,2,1 --expect "balance is" --expect "sent a link"
 *                                                  scripted: exits 0 once every expected prompt was heard (in order),
 *                                                  non-zero when the call ends or --timeout passes first
 *
 * Options: --url (default http://localhost:$PORT or :3000), --from +1…, --timeout 30s.
 * Steps in --keys: digits (pressed at the next menu), wait:<2s|500ms>, silence, until:<text> (wait
 * until the IVR has said something containing the text, e.g. the verified branch after a redirect).
 */
import { parseArgs } from 'node:util';
import { createDevClient, DevApiError, type CallUpdate, type Entry } from './lib/dev-client.js';

const USAGE = `usage: npm run call -- [options]

A terminal softphone for the built-in phone simulator of a running \`npm start\` (development only).
Interactive: keys 0-9 * #, Enter = stay silent, q or Ctrl-C = hang up.
Scripted (--keys): exits 0 once every --expect was heard in order, non-zero otherwise.

Options:
  --url URL        the IVR (default http://localhost:$PORT, or :3000)
  --from +1…       the caller's number
  --keys STEPS     comma list: digits, wait:2s|500ms, silence, until:<text>
  --expect TEXT    a prompt that must be heard (repeatable, in order)
  --timeout 30s    how long a scripted call may take
  -h, --help       this text`;

const values = (() => {
  try {
    return parseArgs({
      options: {
        url: { type: 'string' },
        from: { type: 'string' },
        keys: { type: 'string' },
        expect: { type: 'string', multiple: true },
        timeout: { type: 'string', default: '30s' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    console.error(`call: ${err instanceof Error ? err.message : String(err)} (see --help)`);
    process.exit(2);
  }
})();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

type Step = { kind: 'keys'; keys: string } | { kind: 'wait'; ms: number } | { kind: 'silence' } | { kind: 'until'; text: string };

function duration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: "${text}" (e.g. 2s, 500ms)`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

function parseSteps(spec: string): Step[] {
  return spec.split(',').map((raw) => {
    const s = raw.trim();
    if (/^[0-9*#]+$/.test(s)) return { kind: 'keys', keys: s };
    if (s.startsWith('wait:')) return { kind: 'wait', ms: duration(s.slice(5)) };
    if (s === 'silence') return { kind: 'silence' };
    if (s.startsWith('until:') && s.length > 6) return { kind: 'until', text: s.slice(6).toLowerCase() };
    throw new Error(`not a step: "${s}" (digits, wait:2s, silence or until:<text>)`);
  });
}

const ENDED: Record<string, string> = {
  caller: 'you hung up',
  ivr: 'the IVR hung up',
  transferred: 'transferred out of the IVR',
  'end-of-twiml': 'the IVR had nothing more to say',
  api: 'ended by the app',
  error: 'ended by an error',
  rejected: 'rejected',
};

function describe(e: Entry): string | null {
  switch (e.kind) {
    case 'say':
      return `IVR  › ${e.text}`;
    case 'play':
      return `     (plays ${e.url})`;
    case 'pause':
      return `     (pause ${e.seconds} s)`;
    case 'keys':
      return `You  › pressed ${e.digits}${e.ignored ? ' (nothing was listening)' : ''}`;
    case 'silence':
      return '     (silence)';
    case 'redirect':
      return e.by === 'api' ? `     ↪ the app redirected the live call (${e.path})` : null;
    case 'transfer':
      return `     transferred (${e.via}) to ${e.to}`;
    case 'ended':
      return `     call ended: ${ENDED[e.reason] ?? e.reason}`;
    case 'error':
      return `  !  ${e.text}`;
    default:
      return null;
  }
}

async function main(): Promise<number> {
  const steps = values.keys ? parseSteps(values.keys) : null;
  const expectations = values.expect ?? [];
  const scripted = steps !== null || expectations.length > 0;
  const client = createDevClient(values.url ?? `http://localhost:${process.env.PORT || 3000}`);

  let inboxAfter = await client.inboxSeq();
  const { callSid } = await client.dial(values.from);
  console.log(`Calling the IVR at ${client.baseUrl} (call ${callSid})${scripted ? '' : ' — keys 0-9 * #, Enter = stay silent, q = hang up'}`);

  let met = 0;
  const said: string[] = [];
  let latest: CallUpdate = { status: 'ringing', listening: null, entries: [] };
  let listeningSeq = 0;
  let finished = false;
  let pollError: unknown;
  const waiters = new Set<() => void>();
  const notify = () => [...waiters].forEach((w) => w());
  const hangUp = async () => {
    if (!finished) await client.hangUp(callSid).catch(() => undefined);
  };

  const onEntry = (e: Entry) => {
    const text = describe(e);
    if (text) console.log(text);
    if (e.kind === 'listening') listeningSeq = e.seq;
    if (e.kind === 'say') {
      said.push(e.text.toLowerCase());
      while (met < expectations.length && e.text.toLowerCase().includes((expectations[met] ?? '').toLowerCase())) met++;
    }
    if (e.kind === 'status-callback') finished = true;
  };

  // One poller feeds everything: the transcript, SMS that arrive during the call, and the script's waits.
  const poll = (async () => {
    let after = 0;
    try {
      while (!finished) {
        latest = await client.update(callSid, after);
        for (const e of latest.entries) {
          after = e.seq;
          onEntry(e);
        }
        for (const m of await client.messages(inboxAfter)) {
          inboxAfter = m.seq;
          console.log(`SMS  › to …${m.to.slice(-4)}: ${m.body}`);
        }
        notify();
        if (!finished) await new Promise((r) => setTimeout(r, 250));
      }
    } catch (err) {
      pollError = err;
      finished = true;
      notify();
    }
  })();
  const until = (ready: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (ready() || finished) {
          waiters.delete(check);
          resolve();
        }
      };
      waiters.add(check);
      check();
    });

  process.once('SIGINT', () => void hangUp());

  if (!scripted) {
    const stop = interactive(client, callSid, hangUp);
    await poll;
    stop();
    if (pollError) throw pollError;
    return 0;
  }

  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    void hangUp();
  }, duration(values.timeout));
  // Each key step waits for a Gather it has not pressed into yet, so "1,1" answers two menus.
  let used = 0;
  let stepsDone = true;
  for (const step of steps ?? []) {
    if (step.kind === 'wait') {
      await new Promise((r) => setTimeout(r, step.ms));
      continue;
    }
    if (step.kind === 'until') {
      await until(() => said.some((s) => s.includes(step.text)));
      if (finished) {
        stepsDone = false;
        break;
      }
      continue;
    }
    await until(() => latest.listening !== null && listeningSeq > used);
    if (finished) {
      stepsDone = false;
      break;
    }
    used = listeningSeq;
    if (step.kind === 'keys') await client.press(callSid, step.keys);
    else await client.silence(callSid);
  }
  // With nothing expected, hear the answer to the last step before hanging up.
  await until(() => (expectations.length > 0 ? met === expectations.length : listeningSeq > used));
  await hangUp();
  clearTimeout(deadline);
  await poll;
  if (pollError) throw pollError;
  if (met < expectations.length) {
    console.error(`✗ never heard "${expectations[met]}" (${timedOut ? `nothing within ${values.timeout}` : 'the call ended first'})`);
    return 1;
  }
  if (!stepsDone || timedOut) {
    console.error(timedOut ? `✗ the script did not finish within ${values.timeout}` : '✗ the call ended before every step was played');
    return 1;
  }
  console.log(`✓ ${expectations.length > 0 ? 'heard every expected prompt' : 'script done'}; hung up`);
  return 0;
}

/** Keypad on the terminal; returns a function that gives the terminal back. */
function interactive(client: ReturnType<typeof createDevClient>, callSid: string, hangUp: () => Promise<void>): () => void {
  const stdin = process.stdin;
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  const onData = (chunk: string) => {
    // Raw mode hands over each key; piped input arrives as lines (an empty line = stay silent).
    const keys = stdin.isTTY ? [...chunk] : chunk.split('\n').slice(0, -1).map((l) => l.trim() || '\r');
    for (const k of keys) {
      if (k === '\u0003' || k === 'q') void hangUp();
      else if (k === '\r' || k === '\n') void client.silence(callSid).catch(() => undefined);
      else if (/^[0-9*#]+$/.test(k)) void client.press(callSid, k).catch(() => undefined);
    }
  };
  stdin.on('data', onData);
  stdin.once('end', () => void hangUp());
  return () => {
    stdin.off('data', onData);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
  };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof DevApiError) console.error(err.message);
    else console.error('call failed:', err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
