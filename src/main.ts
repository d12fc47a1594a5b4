import { createApp } from './app.js';
import { buildDeps } from './compose.js';
import { loadDotEnv } from './config/dotenv.js';
import { ConfigError, loadConfig } from './config/load.js';
import { policiesInForce, policiesLine } from './config/policies.js';
import { FlowError, formatProblem } from './flows/load.js';
import { createHttpServer, drainServer } from './http/server.js';

/** Start-up: config → deps → listen → drain on SIGTERM (STYLE habit 1). */
async function main(): Promise<void> {
  // `.env` in the working directory, when present; real environment variables win.
  loadDotEnv();
  const config = loadConfig(process.env);
  const built = await buildDeps(config);
  const { logger } = built.deps;
  if (config.demoDefaults.length > 0) {
    logger.warn({ settings: config.demoDefaults }, `development: demo values in use for ${config.demoDefaults.join(', ')} (never in production)`);
  }
  const server = createHttpServer(createApp(built.deps));
  server.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  logger.info({ host: config.host, port: config.port, store: config.store.kind, env: config.env }, 'Vaultline IVR listening');
  // Which outage, late-confirmation and lifetime policies this instance applies, in one line.
  const policies = policiesInForce(config);
  logger.info({ policies }, policiesLine(policies));
  // Provider-API sessions whose code ran out unpolled still get their callback.
  const stopSweeper = built.notifier.startSweeper(5000);
  if (!config.isProduction) {
    process.stdout.write(
      [
        '',
        `  Vaultline IVR is running at ${config.publicBaseUrl}`,
        `  Dev console:   ${config.publicBaseUrl}/dev`,
        `  Place a call:  point a Twilio number's Voice webhook at ${config.publicBaseUrl}/twilio/voice (POST),`,
        `                 or use the built-in simulator from the dev console.`,
        '',
      ].join('\n') + '\n',
    );
  }

  let draining = false;
  const drain = (signal: string) => {
    if (draining) return;
    draining = true;
    logger.info({ signal }, `${signal}: shutting down`);
    // DESIGN A12's bound, whatever hangs (a store that never answers QUIT, a callback in flight).
    setTimeout(() => process.exit(1), (config.shutdownDrainSeconds + 10) * 1000 - 250).unref();
    void drainServer(server, built.deps.drain, { drainSeconds: config.shutdownDrainSeconds, logger }).then(async (clean) => {
      stopSweeper();
      await built.close().catch((err: unknown) => logger.warn({ err }, 'closing the store and adapters failed'));
      process.exit(clean ? 0 : 1);
    });
  };
  process.on('SIGTERM', () => drain('SIGTERM'));
  process.on('SIGINT', () => drain('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    // One line per problem, so an operator (or a log search) sees each setting on its own.
    console.error(['Vaultline IVR cannot start: fix these settings:', ...err.problems.map((p) => `  ${p}`)].join('\n'));
  } else if (err instanceof FlowError) {
    // The same lines as `npm run flows -- check`: file:line, node, problem and fix.
    console.error(['Vaultline IVR cannot start: fix these flows:', ...err.problems.map((p) => `  ${formatProblem(p)}`)].join('\n'));
  } else {
    console.error('Vaultline IVR cannot start:', err instanceof Error ? err.message : err);
  }
  process.exit(1);
});
