import { branchesAndTags, commitsFrom, remoteTrackingBranches, resolveRevision, type GitRepo } from './git-repo.js';
import { E, isMlxError, unknownRevision } from '../util/errors.js';

/** Which commits' data to keep, besides the work tree's (always kept). */
export interface RetentionRules {
  /**
   * Branches (and their history, as far as `lastCommits`/`days` reach): local ones (`feat`,
   * `refs/heads/feat`) or remote-tracking ones (`origin/feat`, `remotes/origin/feat`, `refs/remotes/origin/feat`).
   */
  branches?: string[];
  /** Every local and remote-tracking branch, as `git branch -a` lists them. */
  allBranches?: boolean;
  /** Commits kept like branch tips, their history by the same depth rules (a git remote's branches). */
  tips?: string[];
  tags?: string[];
  allTags?: boolean;
  /** Other revisions: commit ids, `HEAD~3`, ... */
  revs?: string[];
  /** Of each kept branch (and HEAD): its last N commits. Without this or `days`, only the tip. */
  lastCommits?: number;
  /** Of each kept branch (and HEAD): commits of the last N days. */
  days?: number;
}

/** The commits the rules name. HEAD is always included (its history by the same depth rules). */
export async function retainedCommits(git: GitRepo, rules: RetentionRules): Promise<Set<string>> {
  const out = new Set<string>();
  const { branches, tags } = await branchesAndTags(git);
  const tracking = await remoteTrackingBranches(git);
  /** A branch as the user named it, as a ref that cannot be mistaken for a tag of the same name. */
  const branchRef = (name: string): string => {
    const local = name.replace(/^refs\/heads\//, '');
    if (branches.includes(local)) return `refs/heads/${local}`;
    const remote = name.replace(/^(refs\/)?remotes\//, '');
    if (tracking.includes(remote)) return `refs/remotes/${remote}`;
    throw unknownRevision(`no branch named ${JSON.stringify(name)}`, {
      hint: tracking.length ? 'name a local branch or a remote-tracking one such as origin/main (git branch -a lists them)' : 'git branch -a lists the branches; git fetch brings a remote\'s',
    });
  };
  const named = (rules.branches ?? []).map(branchRef);
  const all = rules.allBranches ? [...branches.map((b) => `refs/heads/${b}`), ...tracking.map((b) => `refs/remotes/${b}`)] : [];
  const heads = new Set<string>(['HEAD', ...all, ...named, ...(rules.tips ?? [])]);
  const since = rules.days !== undefined ? new Date(Date.now() - rules.days * 86_400_000) : undefined;
  for (const ref of heads) {
    let tip: string;
    try {
      tip = await resolveRevision(git, ref);
    } catch (err) {
      // No commit yet: the work tree is all there is to keep.
      if (ref === 'HEAD' && isMlxError(err, E.NO_COMMITS)) continue;
      throw err;
    }
    out.add(tip);
    if (rules.lastCommits === undefined && since === undefined) continue;
    const commits = await commitsFrom(git, tip, { depth: rules.lastCommits });
    for (const c of commits) if (!since || c.time >= since.getTime()) out.add(c.oid);
  }
  for (const tag of rules.allTags ? tags : rules.tags ?? []) out.add(await resolveRevision(git, tag));
  for (const rev of rules.revs ?? []) out.add(await resolveRevision(git, rev));
  return out;
}
