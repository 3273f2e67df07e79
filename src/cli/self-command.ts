import path from 'node:path';

/** How this very mlx was started (node and the script, absolute): the hooks' and merge driver's last resort. */
export function selfCommand(): string[] {
  return [process.execPath, path.resolve(process.argv[1] ?? 'mlx')];
}
