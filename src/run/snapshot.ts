import { hashBytes } from '../hash/hash-file.js';
import type { Oid } from '../hash/oid.js';
import { isFileEntry, serializeManifest } from '../formats/manifest.js';
import type { Artifact } from '../formats/run-lock.js';
import { pathNotFound } from '../util/errors.js';
import type { Repo } from '../workspace/repo.js';
import type { StatIndex } from '../workspace/stat-index.js';
import { readWorkTree } from '../workspace/work-tree.js';

/**
 * What a path holds now, as an artifact (file oid, or directory manifest oid). With `store`, the
 * content goes into the cache on the way, so the exact inputs of a run can be restored later.
 */
export function snapshot(repo: Repo, index: StatIndex, rel: string, store: boolean): Artifact {
  const tree = readWorkTree(repo, index, rel, { mode: store ? 'store' : 'hash' });
  if (tree.kind === 'missing') throw pathNotFound(`${rel}: no such file or directory`, { path: rel });
  if (tree.kind === 'file') return { kind: 'file', oid: tree.oid, size: tree.size };
  if (tree.kind === 'dir-unchanged') throw new Error('internal: snapshot asked for no expected oid');
  const bytes = Buffer.from(serializeManifest(tree.entries));
  const oid: Oid = store ? repo.store.putBytes(bytes) : hashBytes(repo.newHasher, bytes);
  if (tree.fp) index.recordTree(rel, tree.fp, oid);
  return { kind: 'dir', oid, size: tree.entries.filter(isFileEntry).reduce((n, e) => n + e.s, 0) };
}
