import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isErrno } from '../util/errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { MLX_DIR } from './layout.js';

/*
 * The repositories that use a cache, so that `mlx gc` in one of them keeps what the others need.
 * `<cache>/repos/<id>.json` holds `{"v":1,"root":"/abs/work/tree"}`; the id is a hash of the root, so
 * registering again finds the same file (idempotent), and the file appears by rename (atomic).
 */

const REGISTRY_DIR = 'repos';
const REGISTRY_VERSION = 1;

export interface CacheUser {
  /** The repository's work tree root (real path). */
  root: string;
  /** Its registry file. */
  file: string;
}

function registryFile(cacheRoot: string, repoRoot: string): string {
  const id = crypto.createHash('sha256').update(repoRoot).digest('hex').slice(0, 32);
  return path.join(cacheRoot, REGISTRY_DIR, `${id}.json`);
}

/**
 * Records that the repository at `repoRoot` uses the cache at `cacheRoot`. Costs one stat when it is
 * registered already (every command opens the store, so no repository is ever missed, including those
 * that set `cache.dir` by hand). A cache this user cannot write to is left as is: such a repository
 * cannot add to it either.
 */
export function registerCacheUser(cacheRoot: string, repoRoot: string): void {
  const file = registryFile(cacheRoot, repoRoot);
  if (fs.existsSync(file)) return;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomicSync(file, `${JSON.stringify({ v: REGISTRY_VERSION, root: repoRoot })}\n`);
  } catch (err) {
    if (isErrno(err, 'EACCES', 'EPERM', 'EROFS')) return;
    throw err;
  }
}

/** Every registered repository; unreadable or foreign entries are skipped (they name no root). */
export function cacheUsers(cacheRoot: string): CacheUser[] {
  const dir = path.join(cacheRoot, REGISTRY_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
  const out: CacheUser[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const file = path.join(dir, name);
    try {
      const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { v?: unknown; root?: unknown };
      if (doc.v === REGISTRY_VERSION && typeof doc.root === 'string' && path.isAbsolute(doc.root)) out.push({ root: doc.root, file });
    } catch (err) {
      if (!(err instanceof SyntaxError) && !isErrno(err, 'ENOENT')) throw err;
    }
  }
  return out;
}

/**
 * Whether a registered repository is gone: its `.mlx/config.yaml` no longer exists. Only ENOENT
 * counts; a root that cannot be read (permissions, I/O errors) is still a user of the cache.
 */
export function isGone(user: CacheUser): boolean {
  try {
    fs.statSync(path.join(user.root, MLX_DIR, 'config.yaml'));
    return false;
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return true;
    return false;
  }
}

export function forgetCacheUser(user: CacheUser): void {
  fs.rmSync(user.file, { force: true });
}
