import { E, MlxError as InternalMlxError } from '../util/errors.js';

/**
 * How every call of the library fails: `code` is stable (one of {@link ErrorCodes}, or a system
 * error's errno such as `EACCES`); `message` is mlx's one line, `hint` what to do next, `data` the
 * structured detail `mlx --json` prints. Test with `err instanceof MlxError` and branch on `code`.
 */
export interface MlxError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly data: Record<string, unknown>;
}

/**
 * The class of {@link MlxError}s, for `instanceof`. It is declared here rather than re-exported so
 * that the shipped declarations stay within src/api.
 */
export const MlxError: {
  new (code: string, message: string, opts?: { hint?: string; data?: Record<string, unknown>; cause?: unknown }): MlxError;
  readonly prototype: MlxError;
} = InternalMlxError;

/** The stable error codes mlx reports (spec/cli.md, "Errors and exit codes"), by name. */
export const ErrorCodes = Object.freeze({ ...E });

/** One of the stable codes of {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * @internal Every failure of the library as an {@link MlxError}: mlx's own pass through; a system
 * error (no permission, disk full, ...) keeps its errno as the code, with its path and syscall as
 * data. Anything else is a bug and is thrown as it is.
 */
export function asMlxError(err: unknown): unknown {
  if (err instanceof InternalMlxError) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  if (e instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string') {
    return new InternalMlxError(e.code, e.message, { data: { syscall: e.syscall, ...(e.path === undefined ? {} : { path: e.path }) }, cause: err });
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
