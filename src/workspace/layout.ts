import os from 'node:os';
import path from 'node:path';

/** Where everything lives inside a repository's `.mlx/` folder. */
export interface Layout {
  root: string;
  mlxDir: string;
  configFile: string;
  localConfigFile: string;
  /** The user-wide config, below the repository's two (see {@link globalConfigFile}). */
  globalConfigFile: string;
  defaultCacheDir: string;
  stateDir: string;
  statIndexFile: string;
  /** Which parts of tracked directories a path-limited checkout asked for (partial-checkout.ts). */
  partialFile: string;
  lockFile: string;
  tmpDir: string;
}

export const MLX_DIR = '.mlx';

export function layoutOf(root: string): Layout {
  const mlxDir = path.join(root, MLX_DIR);
  return {
    root,
    mlxDir,
    configFile: path.join(mlxDir, 'config.yaml'),
    localConfigFile: path.join(mlxDir, 'config.local.yaml'),
    globalConfigFile: globalConfigFile(),
    defaultCacheDir: path.join(mlxDir, 'cache'),
    stateDir: path.join(mlxDir, 'state'),
    statIndexFile: path.join(mlxDir, 'state', 'stat-index'),
    partialFile: path.join(mlxDir, 'state', 'partial.json'),
    lockFile: path.join(mlxDir, 'state', 'lock'),
    tmpDir: path.join(mlxDir, 'tmp'),
  };
}

/**
 * The user-wide config: `$XDG_CONFIG_HOME/mlx/config.yaml`, or `~/.config/mlx/config.yaml` when that
 * variable is unset or not absolute (the XDG Base Directory rule for a relative value).
 */
export function globalConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.config');
  return path.join(base, 'mlx', 'config.yaml');
}

/** What `.mlx/.gitignore` keeps out of git: machine-local state, the cache and local secrets. */
export const MLX_GITIGNORE = ['/cache/', '/state/', '/tmp/', '/config.local.yaml', ''].join('\n');
