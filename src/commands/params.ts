import path from 'node:path';
import { readParamsFile } from '../run/params.js';

/** The params file `mlx run -p` reads when none is named. */
export const DEFAULT_PARAMS_FILE = 'params.yaml';

export interface ParamsResult {
  /** The file as named (default `params.yaml`). */
  file: string;
  /** Its whole content, as parsed. */
  params: unknown;
}

/**
 * `mlx params [file]`: a params file (YAML, or JSON by its `.json` name) as JSON, for programs that
 * read YAML through mlx. Inside `mlx run` the file holds what the run's `-S` overrides set.
 */
export function params(opts: { cwd: string; file?: string }): ParamsResult {
  const file = opts.file ?? DEFAULT_PARAMS_FILE;
  return { file, params: readParamsFile(path.resolve(opts.cwd, file), file) };
}
