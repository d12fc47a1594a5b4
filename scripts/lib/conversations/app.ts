import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createApp } from '../../../src/app.js';
import { buildDeps, type Built } from '../../../src/compose.js';
import { loadConfig, type Config } from '../../../src/config/load.js';
import { createPhoneNetwork, type PhoneNetwork } from '../../../src/telephony/simulator/network.js';
import type { Timers } from '../../../src/telephony/simulator/types.js';

export const PUBLIC_BASE_URL = 'https://ivr.conversation.test';

/**
 * The real app on a loopback port with the built-in phone simulator as its telephone network and
 * Twilio REST (calls.update, SMS), the embedded store and the demo bank: what `npm start` runs, minus
 * the console. Time is the runner's to move (`advance`).
 */
export interface ConversationApp {
  config: Config;
  built: Built;
  phone: PhoneNetwork;
  baseUrl: string;
  /** Moves the app's clock, and the embedded store's with it (codes expire, links lapse, hours change). */
  advance(ms: number): void;
  /** The mobile on file of a demo-bank customer, for `sms: { to: customer }` and the default caller. */
  mobileOf(customerId: string): string | undefined;
  close(): Promise<void>;
}

/**
 * Nothing on the simulated line waits on a real timer: a gather's timeout happens only at a `silence`
 * step, and the runner ends pauses at once (call.timeoutNow), so a slow machine cannot time a caller out.
 */
const handDrivenTimers: Timers = { start: () => () => undefined };

export async function startConversationApp(options: { flowsDir: string; env?: Record<string, string> }): Promise<ConversationApp> {
  // The embedded store (ioredis-mock) reads Date.now for TTLs and `new Date()` for TIME (which decides
  // a code's life, DESIGN B2), and the app's clock is the system clock: shifting both moves them
  // together, which an injected clock alone could not. Restored on close.
  const RealDate = Date;
  const realNow = Date.now.bind(Date);
  let offset = 0;
  class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(realNow() + offset);
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return realNow() + offset;
    }
  }
  globalThis.Date = ShiftedDate as DateConstructor;
  const restoreDate = () => {
    globalThis.Date = RealDate;
  };

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const config = loadConfig({ NODE_ENV: 'test', PUBLIC_BASE_URL, FLOWS_DIR: options.flowsDir, LOG_LEVEL: 'silent', ...options.env });
  const phone = createPhoneNetwork({
    accountSid: config.twilio.accountSid,
    authToken: config.twilio.authToken,
    publicBaseUrl: PUBLIC_BASE_URL,
    appBaseUrl: baseUrl,
    timers: handDrivenTimers,
    now: () => Date.now(),
  });
  let built: Built;
  try {
    built = await buildDeps(config, { twilioApiBaseUrl: `${baseUrl}/simulator/twilio`, redirectBackoffMs: [5, 10, 20] });
  } catch (err) {
    restoreDate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  }
  const outer = express();
  outer.use('/simulator/twilio', phone.restApi);
  outer.use(createApp(built.deps));
  server.on('request', outer);

  const mobiles = readMobiles(config);
  return {
    config,
    built,
    phone,
    baseUrl,
    advance: (ms) => {
      offset += ms;
    },
    mobileOf: (id) => mobiles.get(id),
    async close() {
      await phone.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await built.close();
      restoreDate();
    },
  };
}

function readMobiles(config: Config): Map<string, string> {
  const mobiles = new Map<string, string>();
  if (config.banking.kind !== 'demo') return mobiles;
  try {
    const data = JSON.parse(readFileSync(config.banking.file, 'utf8')) as { customers?: { id?: unknown; mobile?: unknown }[] };
    for (const c of data.customers ?? []) if (typeof c.id === 'string' && typeof c.mobile === 'string') mobiles.set(c.id, c.mobile);
  } catch {
    // No readable demo data: `sms: { to: customer }` then says the number is unknown.
  }
  return mobiles;
}
