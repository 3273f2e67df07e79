import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // The CLI tests spawn real processes; two workers match the two cores CI has.
    maxWorkers: 2,
  },
});
