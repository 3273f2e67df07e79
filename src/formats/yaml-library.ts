import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

/**
 * Injected by the bundler (scripts/build-options.mjs): the file beside the CLI's chunks that holds the
 * yaml library as one CommonJS bundle. Unbundled (tests, tsc), the `yaml` package itself is loaded.
 */
declare const MLX_YAML_MODULE: string | undefined;

let library: typeof Yaml | undefined;

/**
 * The yaml library, loaded on first use. Pointer and config files in the form mlx writes are read
 * without it (see simple-yaml.ts), so `mlx status` does not parse and run its ~130 KB; it is required
 * synchronously because the readers of those files are.
 */
export function yamlLibrary(): typeof Yaml {
  library ??= createRequire(import.meta.url)(typeof MLX_YAML_MODULE !== 'undefined' ? MLX_YAML_MODULE : 'yaml') as typeof Yaml;
  return library;
}

/** Whether the yaml library has been loaded in this process; tests use it to see which reader read a file. */
export function yamlLibraryLoaded(): boolean {
  return library !== undefined;
}
