import { expect } from 'vitest';
import { MlxError } from '../../src/util/errors.js';

/** The code of the MlxError `fn` throws (checked to be one line), or undefined when it throws nothing. */
export function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MlxError);
    expect((err as MlxError).message).not.toContain('\n');
    return (err as MlxError).code;
  }
  return undefined;
}

/** The code of the MlxError `p` rejects with (checked to be one line); fails when it resolves. */
export async function rejectionCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(MlxError);
    expect((err as MlxError).message).not.toContain('\n');
    return (err as MlxError).code;
  }
  throw new Error('expected a rejection');
}
