import { branchesAndTags, commitsFrom, resolveRevision, type GitRepo } from '../git/history.js';
import { E, MlxError } from '../util/errors.js';

/** Which commits' data to keep, besides the work tree's (always kept). */
export interface RetentionRules {
  /** Branches (and their history, as far as `lastCommits`/`days` reach). */
  branches?: string[];
  allBranches?: boolean;
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
  const heads = new Set<string>(['HEAD', ...(rules.allBranches ? branches : rules.branches ?? [])]);
  for (const name of rules.branches ?? []) if (!branches.includes(name)) throw new MlxError(E.UNKNOWN_REVISION, `no branch named ${JSON.stringify(name)}`);
  const since = rules.days !== undefined ? new Date(Date.now() - rules.days * 86_400_000) : undefined;
  for (const ref of heads) {
    let tip: string;
    try {
      tip = await resolveRevision(git, ref);
    } catch (err) {
      if (ref === 'HEAD' && err instanceof MlxError) continue; // no commits yet: the work tree is all
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
