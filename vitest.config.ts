import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    // A shared fixture built in beforeAll runs dozens of CLI commands: on a loaded 2-core machine that passes a minute.
    hookTimeout: 300_000,
    // The CLI tests spawn real processes; two workers match the two cores CI has.
    maxWorkers: 2,
  },
});
