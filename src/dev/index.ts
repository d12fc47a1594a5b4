import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import type { Audit } from '../audit/audit.js';
import type { Config } from '../config/load.js';
import type { Flows } from '../flows/schema.js';
import { createPhoneNetwork, type PhoneNetwork } from '../telephony/simulator/network.js';
import type { Devices } from '../verification/devices.js';
import { createDevApi } from './api.js';

export interface DevTools {
  /** Mount each at its path (AppDeps.devRouters): `/dev` and `/simulator/twilio`. */
  routers: Record<string, Router>;
  /** Where the twilio SDK should send REST calls to reach the simulator. */
  simulatorRestUrl: string;
  phone: PhoneNetwork;
}

/**
 * Everything `npm start` adds in development: the built-in phone network (driving our own
 * webhooks on our own port, answering Twilio REST) and the `/dev` console. The composition root
 * never calls this in production.
 */
export function createDevTools(deps: { config: Config; devices: Devices; audit: Audit; restTargetIsSimulator: boolean; flows: () => Flows }): DevTools {
  const { config } = deps;
  if (config.isProduction) throw new Error('the dev tools are never built in production');
  const local = `http://127.0.0.1:${config.port}`;
  const phone = createPhoneNetwork({
    accountSid: config.twilio.accountSid,
    authToken: config.twilio.authToken,
    publicBaseUrl: config.publicBaseUrl,
    appBaseUrl: local,
  });
  const api = createDevApi({
    publicBaseUrl: config.publicBaseUrl,
    phone,
    devices: deps.devices,
    audit: deps.audit,
    restTargetIsSimulator: deps.restTargetIsSimulator,
    bankDataFile: config.banking.kind === 'demo' ? config.banking.file : undefined,
    flows: deps.flows,
  });
  return {
    routers: { '/dev': createDevConsoleRouter(api), '/simulator/twilio': phone.restApi },
    simulatorRestUrl: `${local}/simulator/twilio`,
    phone,
  };
}

/**
 * The console page (static files, no build step) and its API. It asks for no credentials: it exists
 * only in development, which is meant for one laptop and by default runs on published demo
 * credentials (the admin key included), so it opens nothing that was closed.
 */
export function createDevConsoleRouter(api: Router): Router {
  const dir = publicDir();
  const router = Router();
  router.use((_req, res, next) => {
    // Everything the page needs is served from here: no CDN, no external font, nothing inline.
    // Mermaid styles the SVG it draws with an inline <style>: allowed for styles only, scripts stay 'self'.
    res.set('Content-Security-Policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    res.set('Cache-Control', 'no-store');
    next();
  });
  router.use('/api', api);
  const mermaid = mermaidDist();
  // The flow diagrams are drawn by mermaid (a devDependency) served from node_modules, never a CDN.
  if (mermaid) router.use('/vendor/mermaid', express.static(mermaid, { index: false, redirect: false }));
  router.get('/', (_req, res) => res.sendFile(resolve(dir, 'index.html')));
  router.use(express.static(dir, { index: false, redirect: false }));
  return router;
}

function mermaidDist(): string | undefined {
  try {
    return resolve(dirname(createRequire(import.meta.url).resolve('mermaid/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

function publicDir(): string {
  const here = fileURLToPath(new URL('./public/', import.meta.url));
  // `npm run build` compiles TypeScript only; a development run of dist/ serves the source files.
  return existsSync(here) ? here : resolve('src/dev/public');
}
