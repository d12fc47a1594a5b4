import { describe, expect, it } from 'vitest';
import { freePort } from '../scripts/lib/redis-server.js';
import { startMain, waitForStatus } from './support/main-process.js';

/** Issue 16: the start-up log says which policies are in force (src/config/policies.ts). */
describe('the policies in force at start-up', () => {
  it('when the app starts, then one log line names the policies in force by their setting names', async () => {
    const port = await freePort();
    const app = startMain({
      PORT: String(port),
      LOG_LEVEL: 'info',
      FAIL_MODE: 'open-low-risk',
      LATE_CONFIRMATION_POLICY: 'recently-verified',
      DID_TTL_SECONDS: '300',
      LINK_TTL_SECONDS: '420',
    });
    try {
      expect(await waitForStatus(`http://127.0.0.1:${port}/healthz`)).toBe(200);
      const lines = app
        .output()
        .stdout.split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg?: string; message?: string; policies?: Record<string, unknown> });
      const line = lines.find((l) => l.policies !== undefined);
      expect(line?.policies).toEqual({
        FAIL_MODE: 'open-low-risk',
        LATE_CONFIRMATION_POLICY: 'recently-verified',
        DID_TTL_SECONDS: 300,
        DID_LENGTH: 6,
        LINK_TTL_SECONDS: 420,
        TRUST_PROXY: 0,
        API_RATE_LIMIT_PER_CLIENT: 1000,
        API_RATE_LIMIT_PER_CALL: 20,
        AUDIT_RETENTION_DAYS: 400,
        SHUTDOWN_DRAIN_SECONDS: 5,
      });
      const text = line?.msg ?? line?.message ?? '';
      expect(text).toContain('FAIL_MODE=open-low-risk');
      expect(text).toContain('LATE_CONFIRMATION_POLICY=recently-verified');
      expect(text).toContain('DID_TTL_SECONDS=300');
    } finally {
      expect(await app.stop()).toBe(0);
    }
  });
});
