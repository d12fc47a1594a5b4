import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { buildDeps } from '../src/compose.js';
import { loadConfig } from '../src/config/load.js';
import { makeTestDevice } from './support/device.js';
import { FIXTURE_FLOWS_DIR } from './support/flows.js';
import { freshPrefix } from './support/prefix.js';

const dir = mkdtempSync(path.join(tmpdir(), 'vl-devices-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What `npm start` builds, in-process: development, the embedded store, the devices file in `dir`. */
const start = (env: Record<string, string>) =>
  buildDeps(loadConfig({ FLOWS_DIR: FIXTURE_FLOWS_DIR, LOG_LEVEL: 'silent', ...env }));

describe('enrolled devices of the embedded store in development', () => {
  it('when npm start is restarted, then a device enrolled before is still there (and its revocation too), kept in a 0600 file', async () => {
    const file = path.join(dir, '.vaultline', 'embedded-devices.json');
    const { publicJwk } = await makeTestDevice('ES256');
    const { publicJwk: second } = await makeTestDevice('EdDSA');

    const first = await start({ EMBEDDED_DEVICES_FILE: file });
    expect(first.deps.store.kind).toBe('embedded');
    const { deviceId } = await first.deps.devices.enroll({ customerId: 'cust_001', publicJwk, label: 'my phone' });
    const { deviceId: other } = await first.deps.devices.enroll({ customerId: 'cust_002', publicJwk: second, label: 'old phone' });
    await first.deps.devices.revoke(other);
    await first.close();

    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).not.toMatch(/"d"\s*:/);

    const again = await start({ EMBEDDED_DEVICES_FILE: file });
    expect(await again.deps.devices.get(deviceId)).toMatchObject({ deviceId, customerId: 'cust_001', label: 'my phone', status: 'active', publicJwk });
    expect(await again.deps.devices.get(other)).toMatchObject({ status: 'revoked' });
    await again.close();
  });

  it('when the store is a real Redis, or the app is not in development, then no devices file is written', async () => {
    const file = path.join(dir, 'not-written.json');
    const { publicJwk } = await makeTestDevice('ES256');
    const envs: Record<string, string>[] = [
      { NODE_ENV: 'development', REDIS_URL: inject('redisUrl'), REDIS_KEY_PREFIX: freshPrefix('devfile') },
      { NODE_ENV: 'test' },
    ];
    for (const env of envs) {
      const built = await start({ ...env, EMBEDDED_DEVICES_FILE: file });
      await built.deps.devices.enroll({ customerId: 'cust_001', publicJwk, label: 'phone' });
      await built.close();
    }
    expect(existsSync(file)).toBe(false);
  });
});
