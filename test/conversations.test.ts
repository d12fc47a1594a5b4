import { afterAll, beforeAll, describe, it } from 'vitest';
import { startConversationApp, type ConversationApp } from '../scripts/lib/conversations/app.js';
import { runCall } from '../scripts/lib/conversations/run.js';
import { listConversationFiles, readConversationFile } from '../scripts/lib/conversations/spec.js';

/**
 * The shipped flows' conversation tests (flows/tests/*.yaml): one `it` per call, each file on its own app
 * (built-in simulator, embedded store, demo bank). A flow author edits those files, never this one.
 */
const FLOWS_DIR = 'flows';

for (const file of listConversationFiles(`${FLOWS_DIR}/tests`)) {
  describe(file, () => {
    let app: ConversationApp;
    beforeAll(async () => {
      app = await startConversationApp({ flowsDir: FLOWS_DIR });
    });
    afterAll(async () => {
      await app.close();
    });
    for (const call of readConversationFile(file)) {
      it(call.name, () => runCall(app, call), 30_000);
    }
  });
}
