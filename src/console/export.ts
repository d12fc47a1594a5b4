import { once } from 'node:events';
import type { Response } from 'express';
import type { AuditEvent } from '../audit/events.js';
import type { Logger } from '../log/logger.js';

/**
 * Streams events as NDJSON, one line each, honouring back-pressure (constant memory whatever the
 * range), then `{"type":"export_end","count":N}` as /admin/v1/audit/export does (A11): a stream cut
 * short has no such line. A failure after the first byte cuts the connection rather than end it cleanly.
 */
export async function streamNdjson(res: Response, events: AsyncIterable<AuditEvent>, log: Logger): Promise<number> {
  let count = 0;
  try {
    for await (const event of events) {
      if (res.destroyed) return count;
      count += 1;
      if (!res.write(`${JSON.stringify(event)}\n`)) {
        // 'close' too: a browser that gave up never drains, and the loop must not wait for it.
        await Promise.race([once(res, 'drain'), once(res, 'close')]);
      }
    }
    res.end(`${JSON.stringify({ type: 'export_end', count })}\n`);
  } catch (err) {
    log.error({ err, written: count }, 'console export cut short');
    res.destroy();
  }
  return count;
}
