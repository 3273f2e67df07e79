import { afterEach, describe, expect, it } from 'vitest';
import { Failpoints } from '../helpers/failpoints.js';
import { failpoint, failpointSync, FAILPOINT_EXIT_CODE, resetFailpoints } from '../../src/util/failpoint.js';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
  resetFailpoints();
});

describe('failpoints', () => {
  it('do nothing when none is configured', async () => {
    delete process.env.MLX_FAILPOINTS;
    resetFailpoints();
    await expect(failpoint('anything')).resolves.toBeUndefined();
  });

  it('pause in this process until released', async () => {
    const fp = new Failpoints();
    Object.assign(process.env, fp.env({ here: 'pause' }));
    resetFailpoints();
    let passed = false;
    const p = failpoint('here').then(() => (passed = true));
    await fp.reached('here');
    await new Promise((r) => setTimeout(r, 20));
    expect(passed).toBe(false);
    fp.release('here');
    await p;
    expect(passed).toBe(true);
    fp.cleanup();
  });

  it('throw at an error failpoint', async () => {
    process.env.MLX_FAILPOINTS = 'boom=error';
    resetFailpoints();
    await expect(failpoint('boom')).rejects.toThrow('failpoint boom');
    expect(FAILPOINT_EXIT_CODE).toBe(86);
  });

  it('in synchronous code, do nothing unless configured, and throw at an error failpoint', () => {
    process.env.MLX_FAILPOINTS = 'boom=error';
    resetFailpoints();
    expect(failpointSync('other')).toBeUndefined();
    expect(() => failpointSync('boom')).toThrow('failpoint boom');
  });
});
