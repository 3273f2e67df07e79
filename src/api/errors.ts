import { MlxError } from '../util/errors.js';

export { MlxError };

/**
 * @internal Every failure of the library as an {@link MlxError}: mlx's own pass through; a system error (no
 * permission, disk full, ...) keeps its errno as the code, with its path and syscall as data. Anything
 * else is a bug and is thrown as it is.
 */
export function asMlxError(err: unknown): unknown {
  if (err instanceof MlxError) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  if (e instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string') {
    return new MlxError(e.code, e.message, { data: { syscall: e.syscall, ...(e.path === undefined ? {} : { path: e.path }) }, cause: err });
  }
  return err;
}

/** @internal Runs one library call, turning its failure into an {@link MlxError} where it has a code. */
export async function mlxCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw asMlxError(err);
  }
}
