import type { Oid } from '../hash/oid.js';
import { isFileEntry, parseManifest } from '../formats/manifest.js';
import { commitsSince, openGit, pointersAt, remoteTips } from '../git/git-repo.js';
import { selectionObjects, sendObjects, type PushResult, type TransferOptions } from '../repository/transfer.js';
import { resolveRemote } from '../repository/remotes.js';
import { localRunObjects } from '../run/run-objects.js';
import { openRepo } from '../workspace/repo.js';
import { selectTracked } from '../workspace/targets.js';

export type { PushResult } from '../repository/transfer.js';

export interface PushOptions extends TransferOptions {
  cwd: string;
  /** Tracked paths to push; none means the whole repository, with what its recorded runs need. */
  paths?: string[];
}

/** `mlx push`: sends what the selected pointers need and the remote lacks. */
export async function push(opts: PushOptions): Promise<PushResult> {
  const repo = await openRepo(opts.cwd);
  const paths = opts.paths ?? [];
  // The paths named (pointers only, cheap) and then the remote: a bad path argument or a missing or
  // unknown remote is reported before a million files' manifests are read.
  const selection = selectTracked(repo, opts.cwd, paths);
  const target = await resolveRemote(repo, opts.remote);
  const objects = selectionObjects(repo, selection);
  // Whole-repository pushes also send what the recorded runs need (records, environments, inputs), as far as this cache has them.
  if (paths.length === 0) for (const oid of localRunObjects(repo)) objects.add(oid);
  return sendObjects(repo, objects, opts, undefined, target);
}

/** One line git gives a pre-push hook: `<local ref> <local oid> <remote ref> <remote oid>`. */
export interface PushedRef {
  localRef: string;
  localOid: string;
  remoteOid: string;
}

const NO_COMMIT = /^0+$/;

/** The refs a `git push` is about to update, from the pre-push hook's standard input. */
export function parsePrePushInput(text: string): PushedRef[] {
  const refs: PushedRef[] = [];
  for (const line of text.split('\n')) {
    const [localRef, localOid, , remoteOid] = line.trim().split(/\s+/);
    if (!localRef || !localOid || !remoteOid) continue;
    refs.push({ localRef, localOid, remoteOid });
  }
  return refs;
}

export interface GitPushOptions extends TransferOptions {
  cwd: string;
  /** The refs being pushed, as the pre-push hook reads them. */
  refs: PushedRef[];
  /** The git remote being pushed to. */
  gitRemote: string;
}

/**
 * Before `git push` publishes commits, the data of every one of them goes to the mlx remote: the
 * pointers of each commit being pushed (those the git remote does not have yet), the work tree's
 * pointers and the recorded runs — as git-lfs does in its pre-push hook. Pushing only the work tree
 * would publish older commits whose data nobody can pull. Data that is neither in the cache nor on
 * the remote stops the push, naming the path and commit.
 */
export async function pushForGitPush(opts: GitPushOptions): Promise<PushResult & { commits: number }> {
  const repo = await openRepo(opts.cwd);
  const target = await resolveRemote(repo, opts.remote);
  const git = openGit(repo.root);
  const stop = new Set(await remoteTips(git, opts.gitRemote));
  for (const r of opts.refs) if (!NO_COMMIT.test(r.remoteOid)) stop.add(r.remoteOid);
  const commits = new Set<string>();
  for (const r of opts.refs) {
    if (NO_COMMIT.test(r.localOid)) continue; // a branch being deleted
    for (const c of await commitsSince(git, r.localOid, stop)) commits.add(c);
  }
  const objects = selectionObjects(repo, selectTracked(repo, repo.root, []));
  for (const oid of localRunObjects(repo)) objects.add(oid);
  /** Where each object is needed, for the message when it is nowhere. */
  const where = new Map<Oid, string>();
  const need = (oid: Oid, at: string, size?: number) => {
    objects.add(oid, size);
    if (!where.has(oid)) where.set(oid, at);
  };
  const warnings: string[] = [];
  for (const commit of commits) {
    const at = await pointersAt(git, commit);
    for (const p of at.problems) warnings.push(`${p.message} (not pushed)`);
    for (const t of at.tracked) {
      const label = `${t.path} at ${commit.slice(0, 12)}`;
      need(t.pointer.oid, label, t.pointer.kind === 'file' ? t.pointer.size : undefined);
      // A manifest that is only on the remote: its files were pushed with it.
      if (t.pointer.kind !== 'file' && repo.store.has(t.pointer.oid)) {
        for (const e of parseManifest(repo.store.readBytes(t.pointer.oid).toString('utf8'), label).entries) {
          if (isFileEntry(e)) need(e.o, `${label}/${e.p}`, e.s);
        }
      }
    }
  }
  const res = await sendObjects(repo, objects, opts, where, target);
  return { ...res, warnings: [...res.warnings, ...warnings], commits: commits.size };
}
