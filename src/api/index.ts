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
export { MlxError } from './errors.js';
export { E as ErrorCodes, type ErrorCode } from '../util/errors.js';
export type * from './types.js';
