import path from 'node:path';
import type { Oid } from '../hash/oid.js';
import { isFileEntry, type FileEntry, type ManifestEntry } from '../formats/manifest.js';
import { pointerSizeMismatch, POINTER_SUFFIX, type Pointer } from '../formats/pointer.js';
import { openGit } from '../git/git-repo.js';
import { fetchObjects } from '../remote/fetch.js';
import { packKey } from '../remote/layout.js';
import { findDamagedCopies } from '../remote/damage-check.js';
import { dropIncompleteRecipes } from '../remote/recipe-check.js';
import { RemoteIndex } from '../remote/remote-index.js';
import { E, MlxError, badUsage } from '../util/errors.js';
import { resolveRemote } from '../repository/remotes.js';
import { openRepo } from '../workspace/repo.js';
import { ManifestSource, pointerSet, WORKSPACE } from '../repository/revisions.js';
import type { Progress } from '../workspace/work-tree.js';

export interface VerifyProblem {
  oid: Oid;
  /** The tracked paths (or files inside them) that need it. */
  paths: string[];
  /** `size-mismatch`: the pointer's `size` (or `files`) disagrees with the data it names. */
  problem: 'missing' | 'corrupt' | 'pack-missing' | 'size-mismatch';
  /** What is wrong, for problems that need more than the oid to explain. */
  detail?: string;
}

export interface VerifyResult {
  rev: string;
  commit?: string;
  /** `cache`, or the remote's name. */
  where: string;
  checked: number;
  problems: VerifyProblem[];
}

/**
 * `mlx verify [--remote] [rev]`: every object the pointers at `rev` (default: the work tree) need is
 * re-hashed in the cache, or looked up in the remote's index with its pack present at the size the
 * index says (with `data`, also read back from the remote and hashed). Problems are listed, not thrown, so CI sees all of them at once.
 */
export interface VerifyOptions {
  cwd: string;
  /** A commit, branch or tag (default: the work tree). */
  rev?: string;
  /** Check a remote (`remoteName`, else the default) instead of the cache. */
  remote?: boolean;
  remoteName?: string;
  /** With a remote: also download and hash every object. */
  data?: boolean;
  progress?: Progress;
}

export async function verify(opts: VerifyOptions): Promise<VerifyResult> {
  if (opts.data && !opts.remote && !opts.remoteName) throw badUsage('--data goes with --remote or -r: the cache is always checked byte for byte');
  const repo = await openRepo(opts.cwd);
  const rev = opts.rev;
  opts = { ...opts, remote: opts.remote || !!opts.remoteName };
  const set = await pointerSet(repo, rev ?? WORKSPACE, openGit(repo.root));
  const needs = new Map<Oid, string[]>();
  const need = (oid: Oid, where: string) => {
    const list = needs.get(oid);
    if (list) list.push(where);
    else needs.set(oid, [where]);
  };
  for (const [p, ptr] of set.pointers) need(ptr.oid, p);
  // What each manifest entry says its object's size is: sizes are part of identity.
  const claims = new Map<Oid, { size: number; path: string; dir: string }[]>();
  const claim = (dir: string, e: FileEntry) => {
    const list = claims.get(e.o);
    const c = { size: e.s, path: `${dir}/${e.p}`, dir };
    if (list) list.push(c);
    else claims.set(e.o, [c]);
  };

  if (!opts.remote) {
    const manifests = new ManifestSource(repo);
    const problems: VerifyProblem[] = [];
    for (const [p, ptr] of set.pointers) {
      if (ptr.kind !== 'dir') continue;
      let entries;
      try {
        entries = manifests.entries(ptr.oid);
      } catch (err) {
        if (!(err instanceof MlxError) || err.code !== E.OBJECT_CORRUPT) throw err;
        continue; // reported below when the manifest itself is verified
      }
      for (const e of entries ?? []) {
        if (!isFileEntry(e)) continue;
        need(e.o, `${p}/${e.p}`);
        claim(p, e);
      }
      if (entries) problems.push(...manifestSizeProblem(p, ptr, entries));
    }
    const sizes: VerifyProblem[] = [];
    for (const [p, ptr] of set.pointers) {
      const size = ptr.kind === 'file' ? repo.store.sizeOf(ptr.oid) : undefined;
      if (size !== undefined) sizes.push(...sizeProblem(p, ptr, size));
    }
    opts.progress?.({ totalFiles: needs.size });
    for (const [oid, paths] of needs) {
      try {
        const size = repo.store.verify(oid, opts.progress ? (n) => opts.progress!({ bytes: n }) : undefined);
        sizes.push(...entrySizeProblems(oid, claims.get(oid), size));
      } catch (err) {
        if (!(err instanceof MlxError)) throw err;
        problems.push({ oid, paths, problem: err.code === E.OBJECT_CORRUPT ? 'corrupt' : 'missing' });
      }
      opts.progress?.({ files: 1 });
    }
    // A corrupt object's size says nothing about its pointer.
    const bad = new Set(problems.map((p) => p.oid));
    problems.push(...sizes.filter((p) => !bad.has(p.oid)));
    return { rev: set.label, commit: set.commit, where: 'cache', checked: needs.size, problems };
  }

  const { name, remote } = await resolveRemote(repo, opts.remoteName);
  const index = await RemoteIndex.load(remote, path.join(repo.store.root, 'remotes'));
  // Manifests say which files a directory needs: read them from the cache, or from the remote itself.
  const dirs = [...set.pointers.values()].filter((p) => p.kind === 'dir').map((p) => p.oid);
  await fetchObjects(repo.store, repo.newHasher, remote, index, dirs.filter((o) => index.has(o)));
  const manifests = new ManifestSource(repo);
  const problems: VerifyProblem[] = [];
  for (const [p, ptr] of set.pointers) {
    if (ptr.kind !== 'dir') {
      // A blob's decoded size is in the index; a chunked file's is in its recipe, not read here.
      const entry = index.locate(ptr.oid)?.entry;
      if (entry?.t === 'b') problems.push(...sizeProblem(p, ptr, entry.raw));
      continue;
    }
    const entries = manifests.entries(ptr.oid);
    for (const e of entries ?? []) {
      if (!isFileEntry(e)) continue;
      need(e.o, `${p}/${e.p}`);
      claim(p, e);
    }
    if (entries) problems.push(...manifestSizeProblem(p, ptr, entries));
  }
  for (const [oid, list] of claims) {
    const entry = index.locate(oid)?.entry;
    if (entry?.t === 'b') problems.push(...entrySizeProblems(oid, list, entry.raw));
  }
  const packs = new Map<string, number>();
  await dropIncompleteRecipes(remote, index, needs.keys());
  for (const [oid, paths] of needs) {
    const loc = index.locate(oid);
    if (!loc) problems.push({ oid, paths, problem: 'missing' });
    else packs.set(loc.packKeyHex, index.packs.get(loc.packKeyHex)!.size);
  }
  if (opts.data) {
    // Read back every copy the remote would serve, and hash it (chunks of large files included).
    const damage = await findDamagedCopies(remote, index, repo.newHasher, needs.keys());
    const bad = new Set([...damage.files, ...damage.damaged.map((d) => d.oid)]);
    for (const [oid, paths] of needs) if (bad.has(oid)) problems.push({ oid, paths, problem: 'corrupt' });
  }
  const listed = new Map((await remote.list('packs/')).map((o) => [o.key, o.size]));
  for (const [hex, size] of packs) {
    if (listed.get(packKey(`b3:${hex}`)) !== size) {
      for (const [oid, paths] of needs) if (index.locate(oid)?.packKeyHex === hex) problems.push({ oid, paths, problem: 'pack-missing' });
    }
  }
  return { rev: set.label, commit: set.commit, where: name, checked: needs.size, problems };
}

function sizeProblem(p: string, ptr: Pointer, size: number, files?: number): VerifyProblem[] {
  const why = pointerSizeMismatch(ptr, size, files);
  return why === undefined ? [] : [{ oid: ptr.oid, paths: [p], problem: 'size-mismatch', detail: `pointer ${p}${POINTER_SUFFIX} ${why}` }];
}

function entrySizeProblems(oid: Oid, claims: { size: number; path: string; dir: string }[] | undefined, size: number): VerifyProblem[] {
  return (claims ?? []).filter((c) => c.size !== size).map((c) => ({
    oid,
    paths: [c.path],
    problem: 'size-mismatch' as const,
    detail: `the manifest of ${c.dir} says ${c.size} bytes for ${c.path.slice(c.dir.length + 1)}, but its object has ${size}`,
  }));
}

function manifestSizeProblem(p: string, ptr: Pointer, entries: ManifestEntry[]): VerifyProblem[] {
  const files = entries.filter(isFileEntry);
  return sizeProblem(p, ptr, files.reduce((n, f) => n + f.s, 0), files.length);
}
