/**
 * The mlx library: the commands of the `mlx` CLI as functions that return data and reject with typed
 * errors. Open a repository with {@link openRepository}, then call its methods.
 *
 * @example
 * ```ts
 * import { openRepository, MlxError } from '<this package>';
 * const repo = await openRepository('path/to/project');
 * await repo.add(['data/train']);
 * const { paths } = await repo.status();
 * ```
 *
 * @packageDocumentation
 */
export { openRepository, Repository, type CheckoutOptions, type PullOptions, type PushOptions, type TransferOptions } from './repository.js';
export { ErrorCodes, MlxError, type ErrorCode } from './errors.js';
/** The results and options of the calls, declared on their own (src/api/types.ts). */
export type * from './types.js';
