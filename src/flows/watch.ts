import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../log/logger.js';
import { checkFlowsDir, formatProblem } from './load.js';
import type { Flows } from './schema.js';

/**
 * Development only: reloads the flows folder when a file in it changes. A good edit replaces the flows
 * for the next caller turn; a broken one keeps the last good flows running and logs every problem (the
 * same lines as `npm run flows -- check`), so a typo never takes the running app down.
 */
export function watchFlows(deps: { dir: string; logger: Logger; onReload(flows: Flows): void; debounceMs?: number }): { close(): void } {
  const { dir, logger } = deps;
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    timer = undefined;
    let result: ReturnType<typeof checkFlowsDir>;
    try {
      result = checkFlowsDir(dir);
    } catch (err) {
      logger.error({ dir, err }, 'flows not reloaded: the folder cannot be read; the last good flows keep running');
      return;
    }
    if (result.flows) {
      deps.onReload(result.flows);
      logger.info({ dir, flows: [...result.flows.byId.keys()] }, 'flows reloaded');
    } else {
      logger.error({ dir, problems: result.problems.map(formatProblem) }, `flows not reloaded (${result.problems.length} problems); the last good flows keep running`);
    }
  };
  let watcher: FSWatcher | undefined;
  try {
    // An editor saves in bursts (temp file, rename, write): one reload after the burst.
    watcher = watch(dir, () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(reload, deps.debounceMs ?? 150);
      timer.unref();
    });
    watcher.on('error', (err) => logger.warn({ dir, err }, 'flows folder watch stopped'));
    // Watching never keeps a process alive on its own (a failed start-up must still exit).
    watcher.unref();
  } catch (err) {
    logger.warn({ dir, err }, 'flows folder not watched: edits need a restart');
  }
  return {
    close: () => {
      if (timer) clearTimeout(timer);
      watcher?.close();
    },
  };
}
