import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RedisClient } from '../store/client.js';
import type { Keys } from '../store/keys.js';
import type { Devices } from '../verification/devices.js';

interface DeviceFile {
  version: 1;
  /** Device id → the device hash as stored (public keys and labels only: nothing secret). */
  devices: Record<string, Record<string, string>>;
}

/**
 * Development only, embedded store only: the in-process store forgets everything when `npm start`
 * stops, so a developer's enrolled authenticator (npm run authenticator, the /dev page) would have to
 * enroll again after every restart. This keeps the device hashes in a file (EMBEDDED_DEVICES_FILE,
 * mode 0600; by default under .vaultline/, which git ignores), restores them at start and rewrites the file after each enrolment
 * or revocation. Sessions, codes and tokens are not kept: a restart still ends every call.
 */
export async function persistDevices(deps: { devices: Devices; redis: RedisClient; keys: Keys; file: string }): Promise<Devices> {
  const { devices, redis, keys, file } = deps;
  const known = readDeviceFile(file);
  for (const [deviceId, hash] of Object.entries(known.devices)) await redis.hset(keys.device(deviceId), hash);

  const save = async (deviceId: string) => {
    const hash = await redis.hgetall(keys.device(deviceId));
    if (Object.keys(hash).length > 0) known.devices[deviceId] = hash;
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // Written aside and renamed, so a crash mid-write never leaves a half file to restore from.
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(known, null, 2)}\n`, { mode: 0o600 });
    chmodSync(temp, 0o600);
    renameSync(temp, file);
  };

  return {
    ...devices,
    async enroll(input) {
      const enrolled = await devices.enroll(input);
      await save(enrolled.deviceId);
      return enrolled;
    },
    async revoke(deviceId) {
      const revoked = await devices.revoke(deviceId);
      if (revoked) await save(deviceId);
      return revoked;
    },
  };
}

function readDeviceFile(file: string): DeviceFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { version: 1, devices: {} };
  }
  const parsed = JSON.parse(text) as Partial<DeviceFile>;
  if (parsed.version !== 1 || typeof parsed.devices !== 'object' || parsed.devices === null) {
    throw new Error(`${file} is not an embedded-devices file (delete it to start with no enrolled devices)`);
  }
  return { version: 1, devices: parsed.devices };
}
