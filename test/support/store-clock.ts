import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer } from '../../scripts/lib/redis-server.js';

/**
 * A throw-away redis-server whose clock the test moves (DESIGN B2: a session's life is the
 * store's clock, so an injected app clock alone proves nothing against real Redis).
 *
 * libfaketime (Debian `faketime`) moves it: the server reads its offset from a file on every
 * clock call (FAKETIME_NO_CACHE). Debian's redis-server links jemalloc, which libfaketime cannot
 * start under (wolfcw/libfaketime#130: jemalloc's first clock_gettime recurses into libfaketime's
 * set-up), so a tiny preload library in front hands malloc to glibc; jemalloc then starts later,
 * with libfaketime ready. The monotonic clock is left alone (FAKETIME_DONT_FAKE_MONOTONIC): only
 * the wall clock, which TIME and key expiry use, moves.
 */
export interface ClockedRedis {
  url: string;
  /** Moves the server's clock forward; the app's clock is the test's own business. */
  advance(ms: number): void;
  /** How far the server's clock is ahead of the real one, ms. */
  readonly offsetMs: number;
  stop(): Promise<void>;
}

const FAKETIME_LIBS = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'];

const MALLOC_SHIM = `#define _GNU_SOURCE
#include <stddef.h>
#include <dlfcn.h>
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
void *malloc(size_t n) { return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t a, size_t n) { return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { return __libc_memalign(a, n); }
int posix_memalign(void **r, size_t a, size_t n) { void *p = __libc_memalign(a, n); if (!p) return 12; *r = p; return 0; }
static size_t (*glibc_usable)(void *);
size_t malloc_usable_size(void *p) {
  if (!glibc_usable) glibc_usable = (size_t (*)(void *))dlsym(dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD), "malloc_usable_size");
  return glibc_usable(p);
}
`;

function faketimeLib(): string {
  const found = [process.env.FAKETIME_LIB, ...FAKETIME_LIBS].find((p): p is string => !!p && existsSync(p));
  if (!found) throw new Error('libfaketime is needed to move the test Redis clock (Debian: apt-get install faketime; or set FAKETIME_LIB=/path/libfaketime.so.1)');
  return found;
}

/** Builds the malloc shim once per machine (cached by its source's hash in the temp dir). */
function mallocShim(): string {
  const out = join(tmpdir(), `vl-malloc-shim-${createHash('sha256').update(MALLOC_SHIM).digest('hex').slice(0, 12)}.so`);
  if (existsSync(out)) return out;
  const dir = mkdtempSync(join(tmpdir(), 'vl-shim-'));
  try {
    writeFileSync(join(dir, 'shim.c'), MALLOC_SHIM);
    const cc = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', join(dir, 'shim.so'), join(dir, 'shim.c'), '-ldl'], { encoding: 'utf8' });
    if (cc.status !== 0) {
      throw new Error(`a C compiler (cc) is needed once to run redis-server under libfaketime (Debian: apt-get install gcc): ${cc.error?.message ?? cc.stderr}`);
    }
    // Atomic: parallel test files may build it at the same time.
    renameSync(join(dir, 'shim.so'), out);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startRedisWithMovableClock(extraArgs: string[] = []): Promise<ClockedRedis> {
  const lib = faketimeLib();
  const shim = mallocShim();
  const dir = mkdtempSync(join(tmpdir(), 'vl-storeclock-'));
  const offsetFile = join(dir, 'offset');
  let offsetMs = 0;
  const write = () => {
    // Written aside and renamed: the server reads the file on every clock call.
    writeFileSync(`${offsetFile}.tmp`, `+${(offsetMs / 1000).toFixed(3)}\n`);
    renameSync(`${offsetFile}.tmp`, offsetFile);
  };
  write();
  const server = await startRedisServer(extraArgs, undefined, {
    LD_PRELOAD: `${shim}:${lib}`,
    FAKETIME_TIMESTAMP_FILE: offsetFile,
    FAKETIME_NO_CACHE: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  });
  return {
    url: server.url,
    get offsetMs() {
      return offsetMs;
    },
    advance(ms) {
      offsetMs += ms;
      write();
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
