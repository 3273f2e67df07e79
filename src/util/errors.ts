/**
 * One error base for everything mlx reports to a user. Callers branch on `code`, never on message text;
 * `hint` tells the user what to do next; `data` carries structured detail for `--json` output.
 */
export class MlxError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly data: Record<string, unknown>;

  constructor(code: string, message: string, opts: { hint?: string; data?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'MlxError';
    this.code = code;
    this.hint = opts.hint;
    this.data = opts.data ?? {};
  }
}

/** Stable error codes. Tests and callers match on these. */
export const E = {
  NOT_A_GIT_REPO: 'ENOTGITREPO',
  NOT_INITIALISED: 'ENOTINIT',
  /** The git repository has no commit yet: `HEAD` names nothing. */
  NO_COMMITS: 'ENOCOMMITS',
  BAD_PATH: 'EBADPATH',
  PATH_NOT_FOUND: 'EPATHNOTFOUND',
  /** A path that is not tracked by mlx (a status problem). */
  NOT_TRACKED: 'ENOTTRACKED',
  BAD_POINTER: 'EBADPOINTER',
  /** A pointer file whose `path` field names another place than where it lives (a status problem). */
  POINTER_MOVED: 'EPOINTERMOVED',
  BAD_MANIFEST: 'EBADMANIFEST',
  BAD_CONFIG: 'EBADCONFIG',
  BAD_OID: 'EBADOID',
  BAD_STATE: 'EBADSTATE',
  OBJECT_MISSING: 'EOBJECTMISSING',
  OBJECT_CORRUPT: 'EOBJECTCORRUPT',
  /** An object's size differs from what its pointer or manifest entry says: it is damaged. */
  SIZE_MISMATCH: 'ESIZEMISMATCH',
  OVERLAP: 'EOVERLAP',
  LOCAL_CHANGES: 'ELOCALCHANGES',
  /** A tracked directory only partly checked out, where the command needs all of it. */
  PARTIAL_CHECKOUT: 'EPARTIAL',
  LOCKED: 'ELOCKED',
  LINK_FAILED: 'ELINKFAILED',
  USAGE: 'EUSAGE',
  UNKNOWN_REVISION: 'EUNKNOWNREV',
  MERGE_CONFLICT: 'EMERGECONFLICT',
  VERIFY_FAILED: 'EVERIFYFAILED',
  BAD_RUNLOCK: 'EBADRUNLOCK',
  RUN_FAILED: 'ERUNFAILED',
  UNKNOWN_RUN: 'EUNKNOWNRUN',
  BAD_PARAMS: 'EBADPARAMS',
  REMOTE_NOT_FOUND: 'EREMOTENOTFOUND',
  REMOTE_CORRUPT: 'EREMOTECORRUPT',
  REMOTE_UNREACHABLE: 'EREMOTEUNREACHABLE',
  REMOTE_AUTH: 'EREMOTEAUTH',
  REMOTE_NO_BUCKET: 'EREMOTENOBUCKET',
  REMOTE_FAILED: 'EREMOTEFAILED',
  BAD_PACK_INDEX: 'EBADPACKINDEX',
  BAD_RECIPE: 'EBADRECIPE',
  BAD_ENV_RECORD: 'EBADENVRECORD',
  AMBIGUOUS_OID: 'EAMBIGUOUSOID',
  GIT_REMOTE: 'EGITREMOTE',
  /** An environment record lacks what was asked of it (no Python packages to export, ...). */
  NOT_RECORDED: 'ENOTRECORDED',
} as const;

export type ErrorCode = (typeof E)[keyof typeof E];

// Object ids are plain strings here: util sits below hash, where the Oid type lives.

/** What a remote operation was doing when it failed (the four REMOTE_* transport codes share it). */
export interface RemoteOpData {
  url?: string;
  key?: string;
  /** list, get, put, ... */
  op?: string;
  /** The errno or SDK error code. */
  code?: string;
  /** The SDK's error name. */
  name?: string;
  /** The HTTP status the server answered. */
  status?: number;
  prefix?: string;
}

/** The tally of a fetch that found objects missing on the remote (reported whole with the error). */
export interface FetchTallyData {
  remote: string;
  warnings: string[];
  requested: number;
  alreadyLocal: number;
  fetched: number;
  bytesReceived: number;
  bytesReused: number;
  missingOnRemote: string[];
}

/** The one data shape each code carries (what `--json` prints as `error.data`). */
export interface ErrorData {
  [E.NOT_A_GIT_REPO]: Record<never, never>;
  [E.NOT_INITIALISED]: Record<never, never>;
  [E.NO_COMMITS]: Record<never, never>;
  /** `rule` says why the path is refused; `manifest` or `pointer` is where it was read from. */
  [E.BAD_PATH]: { path?: string; rule?: string; manifest?: string; pointer?: string };
  [E.PATH_NOT_FOUND]: { path?: string; rev?: string };
  [E.NOT_TRACKED]: Record<never, never>;
  [E.BAD_POINTER]: { pointer?: string };
  [E.POINTER_MOVED]: Record<never, never>;
  [E.BAD_MANIFEST]: { manifest: string };
  [E.BAD_CONFIG]: { url?: string; option?: string };
  [E.BAD_OID]: { ref?: string };
  /** `repository` is another repository sharing the cache; `files` could not be put back. */
  [E.BAD_STATE]: { path?: string; files?: string[]; repository?: string };
  /** One object (`oid`), several (`oids`), or what a fetch got before finding objects missing. */
  [E.OBJECT_MISSING]: { oid?: string; oids?: string[] } & Partial<FetchTallyData>;
  /** `actual` is the hash the bytes have; `quarantined` where they were moved; `source` where they came from. */
  [E.OBJECT_CORRUPT]: { oid?: string; actual?: string; quarantined?: string; source?: string };
  [E.SIZE_MISMATCH]: { path: string; oid?: string; expected?: number; actual?: number };
  [E.OVERLAP]: { path?: string; paths?: string[] };
  [E.LOCAL_CHANGES]: { paths: string[] };
  [E.PARTIAL_CHECKOUT]: { path: string; present: number; total: number };
  [E.LOCKED]: { lockFile?: string; owner?: { pid: number; host: string; started: number } };
  [E.LINK_FAILED]: Record<never, never>;
  [E.USAGE]: Record<never, never>;
  [E.UNKNOWN_REVISION]: { rev?: string };
  [E.MERGE_CONFLICT]: Record<never, never>;
  [E.VERIFY_FAILED]: Record<never, never>;
  [E.BAD_RUNLOCK]: Record<never, never>;
  /** `path` is an output the run did not write. */
  [E.RUN_FAILED]: { exitCode?: number; path?: string };
  [E.UNKNOWN_RUN]: Record<never, never>;
  [E.BAD_PARAMS]: { file?: string; key?: string };
  [E.REMOTE_NOT_FOUND]: RemoteOpData;
  [E.REMOTE_CORRUPT]: { key: string; stored?: number; expected?: number };
  [E.REMOTE_UNREACHABLE]: RemoteOpData;
  [E.REMOTE_AUTH]: RemoteOpData;
  [E.REMOTE_NO_BUCKET]: { url: string; bucket: string };
  [E.REMOTE_FAILED]: RemoteOpData;
  [E.BAD_PACK_INDEX]: { index?: string };
  [E.BAD_RECIPE]: { recipe: string };
  /** `source` names the record as read; `oid` an object that is no record at all. */
  [E.BAD_ENV_RECORD]: { source?: string; version?: number; oid?: string };
  [E.AMBIGUOUS_OID]: { ref: string; matches: string[] };
  [E.GIT_REMOTE]: { args?: string[] };
  [E.NOT_RECORDED]: Record<never, never>;
}

/** What every factory takes besides the data: the hint for the user and the error underneath. */
export interface ErrorExtras {
  hint?: string;
  cause?: unknown;
}

/** The factory's second argument: the code's data fields and the extras, optional when all fields are. */
type FactoryArgs<D> = Record<never, never> extends D ? [opts?: D & ErrorExtras] : [opts: D & ErrorExtras];

/** An MlxError whose code is known, and so its data shape. */
export type MlxErrorOf<C extends ErrorCode> = MlxError & { readonly code: C; readonly data: ErrorData[C] };

function factory<C extends ErrorCode>(code: C): (message: string, ...args: FactoryArgs<ErrorData[C]>) => MlxErrorOf<C> {
  return (message, ...args) => {
    const { hint, cause, ...data } = (args[0] ?? {}) as ErrorData[C] & ErrorExtras;
    return new MlxError(code, message, { hint, cause, data }) as MlxErrorOf<C>;
  };
}

// One factory per code: `throw objectMissing(message, { oid, hint })`. Their names follow the codes.
export const notAGitRepo = factory(E.NOT_A_GIT_REPO);
export const notInitialised = factory(E.NOT_INITIALISED);
export const noCommits = factory(E.NO_COMMITS);
export const badPath = factory(E.BAD_PATH);
export const pathNotFound = factory(E.PATH_NOT_FOUND);
export const notTracked = factory(E.NOT_TRACKED);
export const badPointer = factory(E.BAD_POINTER);
export const pointerMoved = factory(E.POINTER_MOVED);
export const badManifest = factory(E.BAD_MANIFEST);
export const badConfig = factory(E.BAD_CONFIG);
export const badOid = factory(E.BAD_OID);
export const badState = factory(E.BAD_STATE);
export const objectMissing = factory(E.OBJECT_MISSING);
export const objectCorrupt = factory(E.OBJECT_CORRUPT);
export const sizeMismatch = factory(E.SIZE_MISMATCH);
export const pathsOverlap = factory(E.OVERLAP);
export const localChanges = factory(E.LOCAL_CHANGES);
export const partialCheckout = factory(E.PARTIAL_CHECKOUT);
export const lockHeld = factory(E.LOCKED);
export const linkFailed = factory(E.LINK_FAILED);
export const badUsage = factory(E.USAGE);
export const unknownRevision = factory(E.UNKNOWN_REVISION);
export const mergeConflict = factory(E.MERGE_CONFLICT);
export const verifyFailed = factory(E.VERIFY_FAILED);
export const badRunLock = factory(E.BAD_RUNLOCK);
export const runFailed = factory(E.RUN_FAILED);
export const unknownRun = factory(E.UNKNOWN_RUN);
export const badParams = factory(E.BAD_PARAMS);
export const remoteNotFound = factory(E.REMOTE_NOT_FOUND);
export const remoteCorrupt = factory(E.REMOTE_CORRUPT);
export const remoteUnreachable = factory(E.REMOTE_UNREACHABLE);
export const remoteAuth = factory(E.REMOTE_AUTH);
export const remoteNoBucket = factory(E.REMOTE_NO_BUCKET);
export const remoteFailed = factory(E.REMOTE_FAILED);
export const badPackIndex = factory(E.BAD_PACK_INDEX);
export const badRecipe = factory(E.BAD_RECIPE);
export const badEnvRecord = factory(E.BAD_ENV_RECORD);
export const ambiguousOid = factory(E.AMBIGUOUS_OID);
export const gitRemoteFailed = factory(E.GIT_REMOTE);
export const notRecorded = factory(E.NOT_RECORDED);

/** Whether `err` is an MlxError with one of `codes`; its data then has that code's shape. */
export function isMlxError<C extends ErrorCode>(err: unknown, ...codes: C[]): err is MlxErrorOf<C> {
  return err instanceof MlxError && (codes as string[]).includes(err.code);
}

/** The same error (code, data) told in other words: a caller that knows more says what it means. */
export function reworded(err: MlxError, message: string, extras: ErrorExtras = {}): MlxError {
  return new MlxError(err.code, message, { hint: extras.hint, data: err.data, cause: extras.cause });
}

/** A problem collected instead of thrown (a broken pointer), thrown after all: its code, and its message and hint unless told others. */
export function problemError(problem: { code: string; message: string; hint?: string }, told: { message?: string; hint?: string } = {}): MlxError {
  return new MlxError(problem.code, told.message ?? problem.message, { hint: 'hint' in told ? told.hint : problem.hint });
}

export function isErrno(err: unknown, ...codes: string[]): err is NodeJS.ErrnoException {
  return typeof err === 'object' && err !== null && codes.includes((err as NodeJS.ErrnoException).code ?? '');
}
