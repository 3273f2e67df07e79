import fs from 'node:fs';
import path from 'node:path';
import { serializeConfig } from '../formats/config.js';
import { MlxError } from '../util/errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { layoutOf, MLX_GITIGNORE } from '../workspace/layout.js';
import { findGitRoot, notGit } from '../workspace/repo.js';
import { ensureMergeAttributes, registerMergeDriver } from './git-setup.js';

export interface InitResult {
  root: string;
  created: boolean;
  /** Whether .gitattributes gained the lines that route pointers, mlx.lock and .gitignore to the merge driver. */
  gitattributes: boolean;
  /** The merge driver registered in git config, when `command` was given. */
  mergeDriver?: string;
  /** Why the merge driver could not be registered (git refused its config): init still succeeds. */
  mergeDriverProblem?: string;
}

/**
 * `mlx init`: creates `.mlx/` at the root of the git work tree around `cwd`, and sets up the merge
 * driver so that branches merge without conflicts in the files mlx writes. Running it again changes
 * nothing.
 */
export interface InitOptions {
  cwd: string;
  /** How this mlx was started: given, the merge driver is registered in git config (as `mlx install` does). */
  command?: string[];
}

export function init(opts: InitOptions): InitResult {
  const gitRoot = findGitRoot(opts.cwd);
  if (!gitRoot) throw notGit(opts.cwd);
  const root = fs.realpathSync(gitRoot);
  const layout = layoutOf(root);
  const created = !fs.existsSync(layout.configFile);
  for (const dir of [layout.mlxDir, layout.stateDir, layout.tmpDir, layout.defaultCacheDir]) fs.mkdirSync(dir, { recursive: true });
  if (created) writeFileAtomicSync(layout.configFile, `# mlx configuration (committed); machine-local settings go in config.local.yaml\n${serializeConfig({})}`);
  const ignore = path.join(layout.mlxDir, '.gitignore');
  if (!fs.existsSync(ignore)) writeFileAtomicSync(ignore, MLX_GITIGNORE);
  let mergeDriver: string | undefined;
  let mergeDriverProblem: string | undefined;
  try {
    if (opts.command) mergeDriver = registerMergeDriver(root, opts.command);
  } catch (err) {
    if (!(err instanceof MlxError)) throw err;
    mergeDriverProblem = err.message;
  }
  return { root, created, gitattributes: ensureMergeAttributes(root), mergeDriver, mergeDriverProblem };
}
