import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000, // set-up hooks build whole repositories; a loaded machine must not fail them
    // The CLI tests spawn real processes; two workers match the two cores CI has.
    maxWorkers: 2,
  },
});
