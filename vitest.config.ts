import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-redis.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Redis-backed tests isolate by key prefix, so files can run in parallel.
    pool: 'forks',
  },
});
