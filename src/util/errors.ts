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
  BAD_PATH: 'EBADPATH',
  PATH_NOT_FOUND: 'EPATHNOTFOUND',
  BAD_POINTER: 'EBADPOINTER',
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
} as const;

export function isErrno(err: unknown, ...codes: string[]): err is NodeJS.ErrnoException {
  return typeof err === 'object' && err !== null && codes.includes((err as NodeJS.ErrnoException).code ?? '');
}
