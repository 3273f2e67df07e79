import { defineConfig } from 'vitest/config';

// Every Node process reads NODE_EXTRA_CA_CERTS when it starts: with a system-wide bundle that is ~40 ms
// of CPU per process on Node 20, about half of what a short CLI command costs, and the suite starts
// thousands of CLI processes that talk to nothing but local servers. Workers and everything they spawn
// go without it; npm, which may reach the registry, gets it back (test/helpers/packed-install.ts).
if (process.env.NODE_EXTRA_CA_CERTS) {
  process.env.MLX_TEST_NPM_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
  delete process.env.NODE_EXTRA_CA_CERTS;
}

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
