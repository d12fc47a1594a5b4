import { readFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';

/**
 * Looks for secrets in a Redis the test owns: every key and value read the way its type is read
 * (strings, hashes, lists, sets, sorted sets, streams), and the bytes of an RDB dump of it.
 * `needles` maps a label (what the value is: "DID 1", "link token") to the value itself.
 */
export interface Finding {
  label: string;
  where: string;
}

const SCAN_COUNT = 500;

/** Every key with everything it holds, as one text per key (names included). */
async function liveContents(redis: Redis): Promise<Map<string, Buffer[]>> {
  const out = new Map<string, Buffer[]>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scanBuffer(cursor, 'COUNT', SCAN_COUNT);
    cursor = next.toString();
    for (const keyBuf of keys) {
      const key = keyBuf.toString('latin1');
      const type = await redis.type(keyBuf);
      const parts: Buffer[] = [keyBuf];
      switch (type) {
        case 'string': {
          const v = await redis.getBuffer(keyBuf);
          if (v) parts.push(v);
          break;
        }
        case 'hash':
          for (const [f, v] of Object.entries(await redis.hgetallBuffer(keyBuf))) parts.push(Buffer.from(f, 'latin1'), v);
          break;
        case 'list':
          parts.push(...(await redis.lrangeBuffer(keyBuf, 0, -1)));
          break;
        case 'set':
          parts.push(...(await redis.smembersBuffer(keyBuf)));
          break;
        case 'zset':
          parts.push(...(await redis.zrangeBuffer(keyBuf, 0, -1, 'WITHSCORES')));
          break;
        case 'stream':
          for (const [id, fields] of await redis.xrange(keyBuf, '-', '+')) parts.push(Buffer.from(id), ...fields.map((f) => Buffer.from(f)));
          break;
        case 'none':
          // Gone between SCAN and TYPE (the audit drainer empties outbox shards as it moves events): nothing left to read.
          continue;
        default:
          throw new Error(`key ${key} has a type the scan cannot read: ${type}`);
      }
      out.set(key, parts);
    }
  } while (cursor !== '0');
  return out;
}

/** What a value may look like at rest: its text, and for a canonical integer the binary forms RDB and listpacks store it in. */
function forms(value: string): Buffer[] {
  const out = [Buffer.from(value, 'utf8')];
  if (/^-?[1-9]\d{0,18}$/.test(value)) {
    const n = BigInt(value);
    const le = (bytes: number) => {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(n);
      return b.subarray(0, bytes);
    };
    const fits = (bits: number) => n >= -(1n << BigInt(bits - 1)) && n < 1n << BigInt(bits - 1);
    // RDB string encodings: RDB_ENC_INT8/16/32 (0xC0, 0xC1, 0xC2) then the integer, little-endian.
    if (fits(8)) out.push(Buffer.concat([Buffer.from([0xc0]), le(1)]));
    if (fits(16)) out.push(Buffer.concat([Buffer.from([0xc1]), le(2)]));
    if (fits(32)) out.push(Buffer.concat([Buffer.from([0xc2]), le(4)]));
    // Listpack integer entries: 16, 24, 32, 64 bit (0xF1, 0xF2, 0xF3, 0xF4) then little-endian.
    if (fits(16)) out.push(Buffer.concat([Buffer.from([0xf1]), le(2)]));
    if (fits(24)) out.push(Buffer.concat([Buffer.from([0xf2]), le(3)]));
    if (fits(32)) out.push(Buffer.concat([Buffer.from([0xf3]), le(4)]));
    out.push(Buffer.concat([Buffer.from([0xf4]), le(8)]));
    // Intsets (a set of integers) hold the bare little-endian integer.
    if (fits(32)) out.push(le(4));
  }
  return out;
}

/** Every needle found in any key name or value, by key. */
export async function scanLive(redis: Redis, needles: ReadonlyMap<string, string>): Promise<Finding[]> {
  const found: Finding[] = [];
  const contents = await liveContents(redis);
  for (const [key, parts] of contents) {
    for (const [label, value] of needles) {
      const text = Buffer.from(value, 'utf8');
      if (parts.some((p) => p.includes(text))) found.push({ label, where: key });
    }
  }
  return found;
}

/** How many keys the live scan read (a scan that reads nothing finds nothing). */
export async function countKeys(redis: Redis): Promise<number> {
  return (await liveContents(redis)).size;
}

/** Every needle found in the bytes of an RDB file, in any of its at-rest forms. */
export async function scanDump(file: string, needles: ReadonlyMap<string, string>): Promise<Finding[]> {
  const bytes = await readFile(file);
  const found: Finding[] = [];
  for (const [label, value] of needles) {
    if (forms(value).some((f) => bytes.includes(f))) found.push({ label, where: file });
  }
  return found;
}
