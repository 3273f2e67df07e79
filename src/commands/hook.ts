import { MlxError } from '../util/errors.js';
import { fetchSelection } from '../repository/transfer.js';
import { runObjectRounds } from '../run/run-objects.js';
import { checkoutSelection } from '../workspace/checkout.js';
import { keepPartial, PartialCheckouts } from '../workspace/partial-checkout.js';
import { selectTracked } from '../workspace/targets.js';
import { loadConfig } from '../workspace/config-file.js';
import { findPointers } from '../workspace/pointers.js';
import { openRepo, type Repo } from '../workspace/repo.js';
import { parsePrePushInput, pushForGitPush } from './push.js';
import { isFileEntry, parseManifest } from '../formats/manifest.js';

export interface HookOutcome {
  /** Exit code for git: non-zero only where git should stop (pre-push without data on the remote). */
  code: number;
  messages: string[];
}

/**
 * What each installed hook does. Hooks never break the git command they serve except pre-push, which
 * stops `git push` when the data could not be pushed first — otherwise the commits would point at data
 * nobody can pull.
 */
export interface HookOptions {
  cwd: string;
  /** The git hook being run: post-checkout, post-merge, pre-push or pre-commit. */
  name: string;
  args?: string[];
  /** What git gave the hook on standard input (pre-push: the refs being pushed). */
  stdin?: string;
}

export async function runHook(opts: HookOptions): Promise<HookOutcome> {
  const { name, args = [], stdin = '' } = opts;
  const repo = await openRepo(opts.cwd);
  const hasRemote = !!loadConfig(repo.layout).core?.remote;
  try {
    switch (name) {
      case 'post-checkout':
      case 'post-merge': {
        // Partial checkouts stay partial across branch switches and merges (only their parts are fetched).
        const selection = keepPartial(PartialCheckouts.load(repo.layout), selectTracked(repo, repo.root, []));
        if (hasRemote) await fetchSelection(repo, selection, {}, runObjectRounds(repo)).catch((err) => (err instanceof MlxError ? undefined : Promise.reject(err)));
        const res = await checkoutSelection(repo, selection);
        const changed = res.paths.filter((p) => p.written + p.removed > 0).length;
        return { code: 0, messages: changed ? [`mlx: restored ${changed} tracked path(s)`] : [] };
      }
      case 'pre-push': {
        if (!hasRemote) return { code: 0, messages: ['mlx: no default remote, data not pushed (mlx remote add -d <name> <url>)'] };
        // git passes the remote's name and the refs being pushed: the data of every commit they add goes first.
        const res = await pushForGitPush({ cwd: repo.root, refs: parsePrePushInput(stdin), gitRemote: args[0] ?? 'origin' });
        const notes = res.warnings.map((w) => `mlx: warning: ${w}`);
        if (res.uploadedObjects) notes.push(`mlx: pushed ${res.uploadedObjects} object(s) to ${res.remote} (data of ${res.commits} new commit(s) and the work tree)`);
        return { code: 0, messages: notes };
      }
      case 'pre-commit': {
        const missing = pointersWithoutData(repo);
        return { code: 0, messages: missing.map((p) => `mlx: warning: ${p} points at data that is not in the cache (mlx add it, or mlx pull)`) };
      }
      default:
        return { code: 0, messages: [] };
    }
  } catch (err) {
    if (!(err instanceof MlxError)) throw err;
    return { code: name === 'pre-push' ? 1 : 0, messages: [`mlx: ${name}: ${err.message}${err.hint ? ` (hint: ${err.hint})` : ''}`] };
  }
}

function pointersWithoutData(repo: Repo): string[] {
  const out: string[] = [];
  for (const t of findPointers(repo).tracked) {
    const p = t.pointer;
    if (!repo.store.has(p.oid)) out.push(t.path);
    else if (p.kind === 'dir') {
      const files = parseManifest(repo.store.readBytes(p.oid).toString('utf8'), p.oid).entries.filter(isFileEntry).map((e) => e.o);
      if (repo.store.missing(files).size > 0) out.push(t.path);
    }
  }
  return out;
}
