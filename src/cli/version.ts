import fs from 'node:fs';

/** Injected by the bundler (scripts/build.mjs); read from package.json when running unbundled. */
declare const MLX_VERSION: string | undefined;

export function version(): string {
  if (typeof MLX_VERSION !== 'undefined') return MLX_VERSION;
  return (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
