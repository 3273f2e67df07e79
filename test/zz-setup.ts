import { expect } from 'vitest';
process.env.MLX_TEST_FILE = expect.getState().testPath ?? 'unknown';
