import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A tiny request/answer protocol over the fork IPC channel: the parent asks, the child answers. */
type Handlers = Record<string, () => unknown>;
interface Ask {
  id: number;
  name: string;
}
interface Answer {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

/** Child side: answers each named question; sends `{ ready }` once with the `ready` handler's value. */
export function serveRpc(handlers: Handlers): void {
  const send = (m: unknown) => process.send?.(m);
  process.on('message', (raw) => {
    const ask = raw as Ask;
    const handler = handlers[ask.name];
    if (!handler) {
      send({ id: ask.id, ok: false, error: `unknown question ${ask.name}` } satisfies Answer);
      return;
    }
    Promise.resolve()
      .then(handler)
      .then(
        (value) => send({ id: ask.id, ok: true, value } satisfies Answer),
        (err: unknown) => send({ id: ask.id, ok: false, error: String(err) } satisfies Answer),
      );
  });
  // The parent going away ends the child too: no orphaned servers after a Ctrl-C.
  process.on('disconnect', () => process.exit(0));
  send({ ready: handlers.ready?.() });
}

export interface ChildServer<R> {
  child: ChildProcess;
  ready: R;
  ask<T>(name: string): Promise<T>;
  stop(): Promise<void>;
}

/** Parent side: forks `entry` (a TypeScript file under bench/) with tsx and waits for it to be ready. */
export async function forkServer<R>(entry: string, env: Record<string, string>, execArgv: string[] = []): Promise<ChildServer<R>> {
  const child = fork(fileURLToPath(new URL(entry, import.meta.url)), [], {
    execArgv: ['--import', 'tsx', ...execArgv],
    env: { ...process.env, ...env },
    // The app's log lines (pino to stdout) are written for real and thrown away, as a log shipper would take them.
    stdio: ['ignore', process.env.BENCH_APP_LOGS === '1' ? 'inherit' : 'ignore', 'inherit', 'ipc'],
  });
  const pending = new Map<number, (a: Answer) => void>();
  let nextId = 1;
  const ready = await new Promise<R>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code} before it was ready`)));
    child.on('message', (raw) => {
      const m = raw as Answer & { ready?: R };
      if ('ready' in m) resolve(m.ready as R);
      else pending.get(m.id)?.(m);
    });
  });
  child.removeAllListeners('exit');
  return {
    child,
    ready,
    ask<T>(name: string) {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, (a) => {
          pending.delete(id);
          if (a.ok) resolve(a.value as T);
          else reject(new Error(a.error));
        });
        child.send({ id, name } satisfies Ask);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const id = nextId++;
      child.send({ id, name: 'stop' } satisfies Ask);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
