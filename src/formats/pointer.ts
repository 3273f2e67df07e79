import * as z from 'zod/mini';
import { isOid } from '../hash/oid.js';
import { MlxError, badPath, badPointer } from '../util/errors.js';
import { pathRefusal, printable } from '../util/paths.js';
import { readSimpleYaml } from './simple-yaml.js';
import { yamlLibrary } from './yaml-library.js';
import { describeZodError } from './zod-error.js';

/** The suffix of pointer files: `data/train` is tracked by `data/train.mlx`. */
export const POINTER_SUFFIX = '.mlx';
export const POINTER_VERSION = 1;
const HEADER = '# mlx pointer — do not edit by hand\n';

/** The schema of pointers, built on first use: a pointer in the form mlx writes is checked by {@link pointerInOwnForm}. */
function buildPointerSchema() {
  const oidSchema = z.string().check(z.refine(isOid, 'expected an object id b3:<64 hex>'));
  const nonNegInt = z.int().check(z.nonnegative(), z.lte(Number.MAX_SAFE_INTEGER));
  const oneLine = z.string().check(z.minLength(1), z.refine((s) => !/[\r\n\0]/.test(s), 'expected one line of text'));
  /** Where imported data came from (spec/pointer.md, "Imported data"). */
  const source = z.strictObject({
    repo: oneLine,
    rev: z.optional(oneLine),
    commit: z.string().check(z.regex(GIT_COMMIT, 'expected a full git commit id (40 or 64 hex digits)')),
    path: z.string().check(z.refine((p) => pathRefusal(p, 'tracked') === undefined, 'expected a tracked path of the source repository (spec/paths.md)')),
    run: z.optional(oneLine),
    run_id: z.optional(z.string().check(z.regex(/^r-[0-9a-f]{16}$/, 'expected a run id r-<16 hex>'))),
  });
  return z.discriminatedUnion('kind', [
    z.strictObject({
      version: z.literal(POINTER_VERSION),
      path: z.string(),
      kind: z.literal('file'),
      oid: oidSchema,
      size: nonNegInt,
      /** The executable bit; written only as `true`, absent means not executable. */
      x: z.optional(z.boolean()),
      source: z.optional(source),
    }),
    z.strictObject({
      version: z.literal(POINTER_VERSION),
      path: z.string(),
      kind: z.literal('dir'),
      oid: oidSchema,
      size: nonNegInt,
      files: nonNegInt,
      source: z.optional(source),
    }),
  ]);
}

/** A full git commit id: SHA-1 (40 hex) or SHA-256 (64 hex). */
const GIT_COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

let schema: ReturnType<typeof buildPointerSchema> | undefined;

/** What a `<path>.mlx` file says: which object the tracked path should hold. */
export type Pointer = z.infer<ReturnType<typeof buildPointerSchema>>;

/** Where an imported path's data came from: a tracked path of another mlx repository at one commit. */
export type PointerSource = NonNullable<Pointer['source']>;

/** The keys of `source`, in the order they are written. */
const SOURCE_KEYS = ['repo', 'rev', 'commit', 'path', 'run', 'run_id'] as const;

/**
 * Whether a `.mlx` file is meant as an mlx pointer (ours, even if damaged or mid-merge) rather than
 * someone else's file with the same extension (MATLAB Live Scripts use `.mlx`).
 */
export function isPointerText(text: string): boolean {
  const head = text.slice(0, 4096);
  return head.startsWith('# mlx pointer') || /^(version:\s*\d|kind:\s*(file|dir)\s*$|oid:\s*b3:)/m.test(head);
}

/**
 * Why a pointer disagrees with the data it names (`size` bytes, and for a directory `files` regular
 * files), or undefined when it agrees. A pointer edited by hand or by a broken tool can name the right
 * object with the wrong size; readers that size buffers from it would then misbehave.
 */
export function pointerSizeMismatch(p: Pointer, size: number, files?: number): string | undefined {
  if (p.size !== size) return `says size ${p.size}, but its ${p.kind === 'dir' ? 'files add up to' : 'data is'} ${size} bytes`;
  if (p.kind === 'dir' && files !== undefined && p.files !== files) return `says ${p.files} files, but its manifest lists ${files}`;
  return undefined;
}

/** Whether a pointer records an executable file (only file pointers can). */
export function isExecutable(p: Pointer): boolean {
  return p.kind === 'file' && p.x === true;
}

/** Whether two pointers name the same content: kind, oid and, for a file, its executable bit. */
export function sameContent(a: Pointer, b: Pointer): boolean {
  return a.kind === b.kind && a.oid === b.oid && isExecutable(a) === isExecutable(b);
}

/**
 * Serialises a pointer with a fixed key order, so a data change is a small, readable diff. `x` is
 * written only for an executable file and `source` only for imported data, so other pointers read as
 * they always have.
 */
export function serializePointer(p: Pointer): string {
  const ordered: Record<string, unknown> = { version: p.version, path: p.path, kind: p.kind, oid: p.oid, size: p.size };
  if (p.kind === 'dir') ordered.files = p.files;
  else if (p.x === true) ordered.x = true;
  if (p.source) ordered.source = Object.fromEntries(SOURCE_KEYS.filter((k) => p.source![k] !== undefined).map((k) => [k, p.source![k]]));
  return HEADER + yamlLibrary().stringify(ordered, { lineWidth: 0 });
}

/** Parses pointer text; `source` names the file in the error. */
export function parsePointer(text: string, source: string): Pointer {
  if (/^<<<<<<< /m.test(text)) {
    const data = source.replace(/\.mlx(@.*| \(.*)?$/, '');
    throw badPointer(`pointer file ${source} has unresolved merge conflict markers`, {
      hint: `keep one side (git checkout --ours/--theirs ${data}.mlx, then mlx checkout ${data}) or record the work tree with mlx add ${data}`,
      pointer: source,
    });
  }
  let raw: unknown;
  try {
    // The pointers mlx writes are read without the yaml library; anything else goes through it.
    raw = (readSimpleYaml(text) ?? { value: yamlLibrary().parse(text) }).value;
  } catch (err) {
    throw malformedPointer(source, `not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw malformedPointer(source, text.trim() === '' ? 'the file is empty' : 'not a pointer (expected lines version, path, kind, oid, size)');
  }
  let pointer = pointerInOwnForm(raw);
  if (pointer === undefined) {
    const parsed = pointerBySchema(raw);
    if (!parsed.success) throw malformedPointer(source, describeZodError(parsed.error));
    pointer = parsed.data;
  }
  const why = pathRefusal(pointer.path, 'tracked');
  if (why !== undefined) throw refusedPointer(source, `its path field ${JSON.stringify(pointer.path)} ${why}`, pointer.path, why);
  return pointer;
}

/** The schema's reading of `raw`: what {@link pointerInOwnForm} must agree with. */
export function pointerBySchema(raw: unknown) {
  schema ??= buildPointerSchema();
  return schema.safeParse(raw);
}

const nonNegativeInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * The pointer `raw` holds when it has exactly the fields mlx writes, each valid (the schema would take
 * it as it is); undefined for anything else, which the schema then checks and explains.
 */
export function pointerInOwnForm(raw: unknown): Pointer | undefined {
  if (raw === null || typeof raw !== 'object' || Object.getPrototypeOf(raw) !== Object.prototype) return undefined;
  const r = raw as Record<string, unknown>;
  const { version, path, kind, oid, size } = r;
  if (version !== POINTER_VERSION || typeof path !== 'string' || typeof oid !== 'string' || !isOid(oid) || !nonNegativeInt(size)) return undefined;
  const keys = Object.keys(r).length;
  if (kind === 'dir') return keys === 6 && nonNegativeInt(r.files) ? { version, path, kind, oid, size, files: r.files } : undefined;
  if (kind !== 'file') return undefined;
  if (keys === 5) return { version, path, kind, oid, size };
  return keys === 6 && r.x === true ? { version, path, kind, oid, size, x: true } : undefined;
}

/**
 * Throws `E.BAD_PATH` unless mlx may write the tracked path `rel` that the pointer file `source` (at
 * `<rel>.mlx`) stands for: the path rule (spec/paths.md) holds wherever the pointer was read from, the
 * work tree or a git revision, and no option overrides it.
 */
export function assertTrackedPath(rel: string, source = rel + POINTER_SUFFIX): void {
  const why = pathRefusal(rel, 'tracked');
  if (why !== undefined) throw refusedPointer(source, `the path it tracks, ${JSON.stringify(rel)}, ${why}`, rel, why);
}

function refusedPointer(source: string, why: string, rel: string, rule: string): MlxError {
  return badPath(`refusing pointer file ${printable(source)}: ${why}`, {
    hint: 'remove that pointer file (git rm it); mlx does not write such a path',
    pointer: source,
    path: rel,
    rule,
  });
}

function malformedPointer(source: string, why: string): MlxError {
  return badPointer(`malformed pointer file ${source}: ${why}`, {
    hint: `restore it from git (git checkout -- ${source}) or re-add the data`,
    pointer: source,
  });
}
