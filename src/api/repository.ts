import path from 'node:path';
import { add } from '../commands/add.js';
import { checkout, checkoutAtRevision } from '../commands/checkout.js';
import { lineage } from '../commands/lineage.js';
import { pull } from '../commands/pull.js';
import { push } from '../commands/push.js';
import { report } from '../commands/report.js';
import { runs } from '../commands/runs.js';
import { show } from '../commands/show.js';
import { status } from '../commands/status.js';
import { badUsage } from '../util/errors.js';
import { openRepo } from '../workspace/repo.js';
import { mlxCall } from './errors.js';
import type {
  AddResult,
  CheckoutResult,
  Lineage,
  ProgressListener,
  PullResult,
  PushResult,
  Report,
  RevisionCheckoutResult,
  RunCatalog,
  RunDetails,
  StatusResult,
} from './types.js';

/** Options of the calls that talk to a remote. */
export interface TransferOptions {
  /** The remote's name (default: the repository's default remote, `core.remote`). */
  remote?: string;
  /** Parallel transfers. */
  jobs?: number;
  /** Called as the transfer goes. */
  onProgress?: ProgressListener;
}

/** What {@link Repository.push} takes. */
export interface PushOptions extends TransferOptions {
  /** Tracked paths to push; none means the whole repository with what its recorded runs need. */
  paths?: string[];
  /** Also read back the remote's copies of what it has, and send damaged ones again. */
  repair?: boolean;
}

/** What {@link Repository.pull} takes. */
export interface PullOptions extends TransferOptions {
  /** Tracked paths (or paths inside a tracked directory); none means everything. */
  paths?: string[];
  /** Overwrite work-tree content that is not in the cache. */
  force?: boolean;
}

/** What {@link Repository.checkout} takes: `paths`, or a `rev`, or neither (every tracked path). */
export interface CheckoutOptions {
  /** Tracked paths (or paths inside a tracked directory) to check out from their pointers. */
  paths?: string[];
  /** A commit, branch or tag whose tracked data, pointers and `mlx.lock` to check out. */
  rev?: string;
  /** Overwrite or delete work-tree content that is not in the cache, and pointers not committed. */
  force?: boolean;
  onProgress?: ProgressListener;
}

/**
 * An mlx repository, opened by {@link openRepository}. Each call does what the `mlx` command of the
 * same name does, and returns what `mlx --json` would print; relative paths are taken from
 * {@link Repository.cwd}. A failure rejects with an {@link MlxError}.
 */
export class Repository {
  private constructor(
    /** The repository's top folder (the one holding `.mlx/`), absolute and with symlinks resolved. */
    readonly root: string,
    /** Where relative paths given to this repository's calls are taken from. */
    readonly cwd: string,
  ) {}

  /** @internal What {@link openRepository} does. */
  static async open(dir: string): Promise<Repository> {
    const cwd = path.resolve(dir);
    const repo = await mlxCall(() => openRepo(cwd));
    return new Repository(repo.root, cwd);
  }

  /** Stores files or directories in the cache and writes their `.mlx` pointer files (`mlx add`). */
  add(paths: string[], opts: { onProgress?: ProgressListener } = {}): Promise<AddResult> {
    return mlxCall(() => add({ cwd: this.cwd, paths, progress: opts.onProgress }));
  }

  /** Compares each tracked path (or those named) with its pointer (`mlx status`). */
  status(paths: string[] = [], opts: { onProgress?: ProgressListener } = {}): Promise<StatusResult> {
    return mlxCall(() => status({ cwd: this.cwd, paths, progress: opts.onProgress }));
  }

  /** Uploads what the pointers need and the remote lacks (`mlx push`). */
  push(opts: PushOptions = {}): Promise<PushResult> {
    return mlxCall(() => push({ cwd: this.cwd, paths: opts.paths, remote: opts.remote, jobs: opts.jobs, repair: opts.repair, progress: opts.onProgress }));
  }

  /** Downloads what the pointers need into the cache, then checks it out (`mlx pull`). */
  pull(opts: PullOptions = {}): Promise<PullResult> {
    return mlxCall(() => pull({ cwd: this.cwd, paths: opts.paths, remote: opts.remote, jobs: opts.jobs, force: opts.force, progress: opts.onProgress }));
  }

  /**
   * Makes the work tree match the pointers (`mlx checkout [paths]`), or, with `rev`, brings back the
   * tracked data of a revision (`mlx checkout <rev>`). Nothing changes when content not in the cache
   * would be lost, unless `force`.
   */
  checkout(opts: CheckoutOptions & { rev: string }): Promise<RevisionCheckoutResult>;
  checkout(opts?: CheckoutOptions): Promise<CheckoutResult>;
  checkout(opts: CheckoutOptions = {}): Promise<CheckoutResult | RevisionCheckoutResult> {
    const common = { cwd: this.cwd, force: opts.force, progress: opts.onProgress };
    if (opts.rev !== undefined && opts.paths?.length) return Promise.reject(badUsage('checkout takes paths or a rev, not both'));
    if (opts.rev !== undefined) return mlxCall(() => checkoutAtRevision({ ...common, rev: opts.rev! }));
    // An empty list checks out every tracked path; a path is never taken for a revision here.
    return mlxCall(() => checkout({ ...common, args: opts.paths ?? [] })) as Promise<CheckoutResult>;
  }

  /** The experiment catalog: runs in `mlx.lock` and in the history of every branch and tag (`mlx runs`). */
  runs(): Promise<RunCatalog> {
    return mlxCall(() => runs({ cwd: this.cwd }));
  }

  /** One run, by id, id prefix, record oid or name, with its earlier executions (`mlx show`). */
  run(ref: string): Promise<RunDetails> {
    return mlxCall(() => show({ cwd: this.cwd, run: ref }));
  }

  /** The runs and inputs behind an artifact, across commits (`mlx lineage`). */
  lineage(file: string, opts: { rev?: string } = {}): Promise<Lineage> {
    return mlxCall(() => lineage({ cwd: this.cwd, path: file, rev: opts.rev }));
  }

  /** Data, runs, params, metrics and environments changed between two revisions (`mlx report`). */
  report(opts: { base?: string; head?: string } = {}): Promise<Report> {
    return mlxCall(() => report({ cwd: this.cwd, base: opts.base, head: opts.head }));
  }
}

/**
 * Opens the mlx repository around `dir` (default: the current directory): the nearest folder with
 * `.mlx/` inside a git work tree. When there is none it rejects with an {@link MlxError} whose code is
 * `ErrorCodes.NOT_A_GIT_REPO` or `ErrorCodes.NOT_INITIALISED`.
 */
export function openRepository(dir: string = process.cwd()): Promise<Repository> {
  return Repository.open(dir);
}
