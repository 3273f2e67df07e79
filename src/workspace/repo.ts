import fs from 'node:fs';
import path from 'node:path';
import { loadHasherOnFirstUse, type HasherFactory } from '../hash/blake3.js';
import { parseLinkTypes, type Config, type LinkType } from '../formats/config.js';
import { ObjectStore } from '../store/object-store.js';
import { MlxError, badPath, notAGitRepo, notInitialised } from '../util/errors.js';
import { allowGroupWrites, registerTempDir } from '../util/fs.js';
import { isDotName, isInside, toPosix } from '../util/paths.js';
import { registerCacheUser } from './cache-users.js';
import { loadConfig } from './config-file.js';
import { layoutOf, MLX_DIR, type Layout } from './layout.js';

/** An open mlx repository: its layout, merged config, object store and hashing backend. */
export interface Repo {
  layout: Layout;
  root: string;
  config: Config;
  store: ObjectStore;
  linkTypes: LinkType[];
  /** `cache.verify`: re-hash cache objects at checkout instead of trusting what the store verified when it wrote them. */
  verifyCache: boolean;
  newHasher: HasherFactory;
}

/** The work tree root of the git repository containing `dir`, or undefined. */
export function findGitRoot(dir: string): string | undefined {
  let cur = path.resolve(dir);
  for (;;) {
    if (fs.existsSync(path.join(cur, '.git'))) return cur;
    const parent = path.dirname(cur);
    if (parent === cur) return undefined;
    cur = parent;
  }
}

/** Finds the repository around `cwd` (the nearest folder with `.mlx/` inside a git work tree). */
export async function openRepo(cwd: string): Promise<Repo> {
  const gitRoot = findGitRoot(cwd);
  if (!gitRoot) throw notGit(cwd);
  let root: string | undefined;
  for (let cur = path.resolve(cwd); isInside(gitRoot, cur); cur = path.dirname(cur)) {
    if (fs.existsSync(path.join(cur, MLX_DIR, 'config.yaml'))) {
      root = cur;
      break;
    }
    if (cur === gitRoot) break;
  }
  if (!root) {
    throw notInitialised(`no mlx repository here (no ${MLX_DIR}/ found up to ${gitRoot})`, { hint: 'run mlx init in the repository root' });
  }
  root = fs.realpathSync(root);
  const layout = layoutOf(root);
  const config = loadConfig(layout);
  const newHasher = await loadHasherOnFirstUse();
  const cacheDir = config.cache?.dir ? path.resolve(layout.mlxDir, config.cache.dir) : layout.defaultCacheDir;
  const store = new ObjectStore(cacheDir, newHasher);
  const shared = config.cache?.shared === 'group';
  if (shared) allowGroupWrites();
  store.init();
  if (shared) store.shareWithGroup();
  registerCacheUser(store.root, root);
  registerTempDir(store.tmpDir, layout.tmpDir);
  return {
    layout,
    root,
    config,
    store,
    linkTypes: parseLinkTypes(config.cache?.type),
    verifyCache: config.cache?.verify ?? false,
    newHasher,
  };
}

export function notGit(cwd: string): MlxError {
  return notAGitRepo(`${cwd} is not inside a git repository`, { hint: 'run git init first, then mlx init' });
}

/**
 * Resolves a user-supplied path (relative to `cwd`) to a repo-relative `/` path, refusing anything
 * outside the work tree or inside `.git`/`.mlx`. Symlinked parents are resolved first, so a link
 * cannot smuggle a path out of the repository.
 */
export function toRepoPath(repo: Repo, cwd: string, userPath: string): string {
  // path.resolve would take '' for the current directory, and at the root for the whole repository.
  if (userPath === '') throw badPath('empty path: name a tracked file or directory', { path: userPath });
  const abs = path.resolve(cwd, userPath);
  let parentReal: string;
  try {
    parentReal = fs.realpathSync(path.dirname(abs));
  } catch {
    parentReal = path.dirname(abs); // not there (yet), or unresolvable: taken as written, the checks below still apply
  }
  const resolved = path.join(parentReal, path.basename(abs));
  if (resolved === repo.root) {
    throw badPath('cannot track the repository root itself: name the data folders or files in it', { path: userPath });
  }
  if (!isInside(repo.root, resolved)) {
    throw badPath(`path ${JSON.stringify(userPath)} is outside the repository ${repo.root}`, { path: userPath });
  }
  const rel = toPosix(path.relative(repo.root, resolved));
  const first = rel.split('/')[0]!;
  if (isDotName(first, 'git') || first === MLX_DIR || isDotName(first, 'mlx')) {
    throw badPath(`path ${JSON.stringify(userPath)} is inside ${first}/, which mlx does not track`, { path: userPath });
  }
  return rel;
}

/** Absolute path of a repo-relative path. */
export function absPath(repo: Repo, rel: string): string {
  return path.join(repo.root, ...rel.split('/'));
}
