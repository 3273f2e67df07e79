/**
 * The results the library returns, declared here on their own: the emitted declarations then need no
 * package but Node's types (the internal types are inferred from zod schemas and name isomorphic-git).
 * src/api/repository.ts returns the internal results under these types, so the compiler checks that
 * every internal result still fits its public shape.
 */

/** An object id: `b3:` and 64 hex digits (BLAKE3 of the content). */
export type Oid = string;

/** A value read from a YAML or JSON file (params, metrics, checkpoint metadata). */
export type Value = unknown;

/** Long work reports its progress in named phases, each counting files and bytes from 0. */
export interface ProgressEvent {
  /** A new phase starts: `hashing <path>`, `uploading`, `downloading`, `checking out`, ... */
  phase?: string;
  /** Files done since the last event. */
  files?: number;
  /** Bytes done since the last event. */
  bytes?: number;
  /** More files in this phase's total (the total is unknown until the first of these). */
  totalFiles?: number;
  /** More bytes in this phase's total. */
  totalBytes?: number;
}

/** Receives {@link ProgressEvent}s; called often, so it should return quickly. */
export type ProgressListener = (event: ProgressEvent) => void;

/** A tracked path as `add` stored it. */
export interface AddedPath {
  /** Repository-relative path. */
  path: string;
  kind: 'file' | 'dir';
  oid: Oid;
  size: number;
  /** Files of a directory. */
  files?: number;
  /** Whether the pointer changed (false: the data was already tracked as it is). */
  changed: boolean;
}

/** What {@link Repository.add} did. */
export interface AddResult {
  paths: AddedPath[];
  /** Whether the root `.gitignore` gained entries. */
  gitignoreChanged: boolean;
  /** Files read and hashed (unchanged files are known by their stat and not read). */
  hashedFiles: number;
  hashedBytes: number;
  /** Paths left out, and why (ignored by `.mlxignore` or the built-in rules). */
  skipped: { path: string; why: string }[];
  /** Cache objects found changed through linked work-tree files, now quarantined. */
  damaged: { path: string; oid: Oid; quarantined?: string }[];
  /** What to `git add` (changed pointers and `.gitignore`), relative to the repository's `cwd`. */
  toGitAdd: string[];
}

/** Added, modified and deleted files inside a tracked directory. */
export interface Changes {
  added: string[];
  modified: string[];
  deleted: string[];
}

/** Where imported data came from (the pointer's `source`). */
export interface DataSource {
  repo: string;
  rev?: string;
  commit: string;
  path: string;
  /** The source's run that wrote the data, when it recorded one. */
  run?: string;
  run_id?: string;
}

/** One tracked path compared with its pointer. */
export interface PathStatus {
  path: string;
  kind: 'file' | 'dir';
  /** `unknown`: the directory's manifest is not in the cache; `partial`: a partial checkout, unchanged in its parts. */
  state: 'clean' | 'modified' | 'missing' | 'unknown' | 'partial';
  /** Whether the cache holds the objects the pointer names. */
  cache: 'ok' | 'partial' | 'missing';
  changes?: Changes;
  /** A directory checked out in part: files present, of all it has, and the parts asked for. */
  partial?: { present: number; total: number; selected: string[] };
  imported?: DataSource;
}

/** What {@link Repository.status} found. */
export interface StatusResult {
  paths: PathStatus[];
  /** Pointer files that could not be read, each with its error code. */
  problems: { pointer: string; code: string; message: string; hint?: string }[];
  hashedFiles: number;
}

/** What {@link Repository.push} sent. */
export interface PushResult {
  /** The remote's name. */
  remote: string;
  /** Objects the selection needs on the remote. */
  objects: number;
  /** Of those, already there before this push. */
  alreadyOnRemote: number;
  /** Objects (blobs, chunks, recipes) written into new packs. */
  uploadedObjects: number;
  packs: number;
  bytesSent: number;
  /** Bytes not sent because the remote (or this push) already had them. */
  bytesDeduplicated: number;
  /** Packs a concurrent remote gc removed while this push ran, whose objects were sent again. */
  resentPacks: number;
  warnings: string[];
  /** With `repair`: damaged copies found on the remote and sent again. */
  repaired: { oid: Oid; packHex: string; why: string }[];
}

/** What a fetch brought into the cache. */
export interface FetchResult {
  remote: string;
  requested: number;
  alreadyLocal: number;
  fetched: number;
  bytesReceived: number;
  /** Bytes of large files taken from older versions in the cache instead of the remote. */
  bytesReused: number;
  missingOnRemote: Oid[];
  warnings: string[];
}

/** Files written, removed and left as they were under one tracked path. */
export interface CheckoutPathResult {
  path: string;
  written: number;
  removed: number;
  unchanged: number;
}

/** What {@link Repository.checkout} changed in the work tree. */
export interface CheckoutResult {
  paths: CheckoutPathResult[];
}

/** What {@link Repository.checkout} with a `rev` changed: the work tree, and the pointers of that revision. */
export interface RevisionCheckoutResult extends CheckoutResult {
  rev: string;
  /** The commit `rev` resolved to. */
  commit: string;
  /** Pointer files written with the revision's content. */
  pointersWritten: string[];
  /** Objects fetched from the default remote. */
  fetched: number;
  /** Tracked in the work tree but not at the revision: left as they are. */
  notAtRevision: string[];
}

/** What {@link Repository.pull} did. */
export interface PullResult {
  fetch: FetchResult;
  checkout: CheckoutResult;
  /** Always false from the library, which registers no merge driver. */
  mergeDriverRegistered: boolean;
}

/** A version of a file or directory: its kind, oid and size. */
export interface Artifact {
  kind: 'file' | 'dir';
  oid: Oid;
  size: number;
}

/** What an output file's header says about it (safetensors, pytorch, gguf, numpy, ...). */
export interface OutputFormat {
  format: string;
  size: number;
  version?: number;
  parameters?: number;
  tensor_count?: number;
  dtypes?: Record<string, number>;
  tensors?: Record<string, string>;
  metadata?: Record<string, Value>;
}

/** One recorded execution of `mlx run`, as `mlx.lock` holds it (spec/run.md). */
export interface RunRecord {
  /** This execution: `r-` and 16 hex digits. */
  id: string;
  /** Its inputs hashed: runs with the same inputs share it. */
  key?: string;
  cmd: string[];
  seed: number | null;
  /** Named seeds (`MLX_SEED_<NAME>`). */
  seeds?: Record<string, number>;
  /** params file → key → value. */
  params: Record<string, Record<string, Value>>;
  /** The `-S` overrides applied before the command ran. */
  overrides?: string[];
  deps: Record<string, Artifact>;
  /** The environment record's oid. */
  env: Oid;
  outs: Record<string, Artifact>;
  /** metrics file → its content. */
  metrics: Record<string, Value>;
  /** output → the checkpoint metadata written beside or inside it. */
  checkpoints?: Record<string, Record<string, Value>>;
  formats?: Record<string, OutputFormat>;
  /** ISO 8601 start time. */
  started: string;
  duration_s: number;
  git: { commit: string | null; dirty: boolean };
  /** The immutable run record object. */
  record: Oid;
}

/** A run as the catalog found it: in the work tree's `mlx.lock` or in a commit's. */
export interface CatalogEntry {
  name: string;
  run: RunRecord;
  /** The oldest commit whose `mlx.lock` holds the run, or null if not committed yet. */
  commit: string | null;
  /** Local branches whose history holds it. */
  branches: string[];
  /** Every ref whose history holds it: local branches, remote-tracking branches, tags. */
  refs: string[];
}

/** What {@link Repository.runs} returns: every run, newest first. */
export interface RunCatalog {
  entries: CatalogEntry[];
  /** Lockfiles and ref histories that could not be read. */
  warnings: string[];
}

/** One run found by {@link Repository.run}, with the other executions of the same inputs. */
export interface RunDetails {
  entry: CatalogEntry;
  /** The run's input key. */
  key: string;
  /** Other executions with the same input key, newest first. */
  sameInputs: CatalogEntry[];
}

/** An artifact in a lineage graph: a path's content at the time a run read or wrote it. */
export interface LineageArtifact {
  id: string;
  type: 'artifact';
  path: string;
  oid: Oid;
  kind?: 'file' | 'dir';
  size?: number;
  /** No recorded run produced this content. */
  source: boolean;
  imported?: DataSource;
}

/** A run in a lineage graph. */
export interface LineageRun {
  id: string;
  type: 'run';
  name: string;
  runId: string;
  cmd: string[];
  seed: number | null;
  seeds?: Record<string, number>;
  params: Record<string, Record<string, Value>>;
  overrides?: string[];
  env: Oid;
  record: Oid;
  started: string;
  /** The commit whose `mlx.lock` holds the run, or null for the work tree's. */
  recordedIn: string | null;
}

/** How artifacts came to be: nodes and edges in the direction data flowed. */
export interface Lineage {
  /** The revision as given, or `workspace`. */
  rev: string;
  commit?: string;
  targets: { path: string; node: string; within?: string }[];
  nodes: (LineageArtifact | LineageRun)[];
  /** `input`: read by a run; `output`: written by one; `same`: same content elsewhere; `part`: a file inside a directory output. */
  edges: { from: string; to: string; kind: 'input' | 'output' | 'same' | 'part' }[];
  warnings: string[];
}

/** A tracked path that changed between two revisions. */
export interface PathChange {
  path: string;
  change: 'added' | 'deleted' | 'modified' | 'renamed';
  kind: 'file' | 'dir';
  from?: string;
  oldOid?: Oid;
  newOid?: Oid;
  oldSize?: number;
  newSize?: number;
  files?: { path: string; change: 'added' | 'deleted' | 'modified'; oldSize?: number; newSize?: number }[];
  filesUnknown?: boolean;
  notAdded?: true;
  imported?: DataSource;
  importedBefore?: DataSource;
}

/** One param or metric on both sides of a report. */
export interface ValueDelta {
  run: string;
  file: string;
  /** Dotted key inside the file. */
  key: string;
  base?: Value;
  head?: Value;
  change: 'added' | 'removed' | 'changed' | 'same';
  /** head − base, when both are numbers. */
  delta?: number;
  /** The delta relative to |base|, in percent. */
  pct?: number;
}

/** A pull-request review between two revisions (spec/run.md, `mlx report`). */
export interface Report {
  base: { rev: string; commit: string; how: string };
  head: { rev: string; commit?: string; dirty?: boolean; uncommitted?: number };
  /** Whether the default remote has the objects the head side brings. */
  remote: { state: 'present' | 'missing' | 'no-remote' | 'unreachable'; remote?: string; checked: number; missing: number; error?: string };
  data: PathChange[];
  runs: {
    name: string;
    status: 'added' | 'removed' | 'changed' | 'rerun' | 'unchanged';
    base?: { id: string; record: Oid };
    head?: { id: string; record: Oid };
    inputs: string[];
    outputs: string[];
    formats?: Record<string, OutputFormat>;
  }[];
  params: ValueDelta[];
  metrics: ValueDelta[];
  environment: { run: string; base: Oid; head: Oid; changes?: { path: string; from: Value; to: Value; package?: string }[]; note?: string }[];
  lineage: Lineage | null;
  changedNodes: string[];
  warnings: string[];
}
