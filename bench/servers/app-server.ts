/**
 * The app under test, in its own process (the load generator never shares a process with it):
 * built like src/main.ts (loadConfig → buildDeps → createApp), listening on 127.0.0.1:0. It answers
 * the parent over IPC with heap, CPU and a count of the Redis commands and round trips it issued.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { createApp } from '../../src/app.js';
import { buildDeps } from '../../src/compose.js';
import { loadConfig } from '../../src/config/load.js';
import { createHttpServer } from '../../src/http/server.js';
import { createStore } from '../../src/store/client.js';
import { serveRpc } from '../lib/ipc.js';

interface Counts {
  commands: number;
  roundTrips: number;
}

/**
 * Counts what the app asks of Redis at the client: every command, and every write to the socket
 * that waits for replies (a MULTI…EXEC pipeline is one round trip, a lone command is one).
 */
function countRoundTrips(redis: Redis): Counts {
  const counts: Counts = { commands: 0, roundTrips: 0 };
  const seenPipelines = new WeakSet<object>();
  const original = redis.sendCommand.bind(redis);
  // sendCommand's second parameter is ioredis-internal (a pipeline's collecting stream).
  redis.sendCommand = ((command: Parameters<Redis['sendCommand']>[0], stream?: unknown) => {
    counts.commands++;
    const pipeline = typeof stream === 'object' && stream !== null && 'isPipeline' in stream ? stream : undefined;
    if (!pipeline) counts.roundTrips++;
    else if (!seenPipelines.has(pipeline)) {
      seenPipelines.add(pipeline);
      counts.roundTrips++;
    }
    return (original as (c: unknown, s?: unknown) => ReturnType<Redis['sendCommand']>)(command, stream);
  }) as Redis['sendCommand'];
  return counts;
}

async function main(): Promise<void> {
  const env = JSON.parse(process.env.BENCH_APP_ENV ?? '{}') as Record<string, string>;
  const config = loadConfig({ NODE_ENV: 'test', ...env });
  const store = await createStore(config.store);
  const counts = countRoundTrips(store.redis as Redis);

  const built = await buildDeps(config, { store });
  const app = createApp(built.deps);
  // The server main.ts runs (its timeouts and keep-alive), not Express's default one.
  const server: Server = createHttpServer(app);
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  // Simulated calls think for 3–7 s between webhooks: createHttpServer's 65 s keep-alive holds their sockets.
  const gc = (globalThis as { gc?: () => void }).gc;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();

  serveRpc({
    ready: () => ({ port: (server.address() as AddressInfo).port }),
    counts: () => ({ ...counts }),
    // Experiment knob (`--no-autopipelining`): what ioredis auto-pipelining (on in src/store/client.ts)
    // buys, measured without editing the app. ioredis reads the option on every command.
    noAutopipelining: () => {
      (store.redis as Redis).options.enableAutoPipelining = false;
      return {};
    },
    usage: () => ({ cpu: process.cpuUsage(), wall: performance.now() }),
    // The audit drainer polls the outbox on its own timer: a phase that proves requests cause no
    // Redis command at all (forged signatures) drains the backlog first and pauses it meanwhile.
    auditPause: async () => {
      await built.deps.audit.drainNow();
      await built.deps.audit.stop();
      return {};
    },
    auditResume: () => {
      built.deps.audit.start();
      return {};
    },
    /** Event-loop delay since the last question (ms): how long a ready request could wait for the app. */
    loopDelay: () => {
      const out = { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
      loopDelay.reset();
      return out;
    },
    heap: () => {
      // Two passes: the first frees, the second settles weak references and finalizers.
      gc?.();
      gc?.();
      return { heapUsed: process.memoryUsage().heapUsed, exact: gc !== undefined };
    },
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await built.close();
      await store.close();
      setImmediate(() => process.exit(0));
      return {};
    },
  });
}

main().catch((err: unknown) => {
  console.error('bench app-server failed:', err);
  process.exit(1);
});
