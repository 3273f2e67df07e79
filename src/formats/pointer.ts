import { z } from 'zod';
import YAML from 'yaml';
import { isOid } from '../hash/oid.js';
import { E, MlxError } from '../util/errors.js';
import { assertSafeRelPath } from '../util/paths.js';
import { describeZodError } from './zod-error.js';

/** The suffix of pointer files: `data/train` is tracked by `data/train.mlx`. */
export const POINTER_SUFFIX = '.mlx';
export const POINTER_VERSION = 1;
const HEADER = '# mlx pointer — do not edit by hand\n';

const oidSchema = z.string().refine(isOid, 'expected an object id b3:<64 hex>');
const nonNegInt = z.number().int().nonnegative();

export const PointerSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    version: z.literal(POINTER_VERSION),
    path: z.string(),
    kind: z.literal('file'),
    oid: oidSchema,
    size: nonNegInt,
    /** The executable bit; written only as `true`, absent means not executable. */
    x: z.boolean().optional(),
  }),
  z.strictObject({
    version: z.literal(POINTER_VERSION),
    path: z.string(),
    kind: z.literal('dir'),
    oid: oidSchema,
    size: nonNegInt,
    files: nonNegInt,
  }),
]);

/** What a `<path>.mlx` file says: which object the tracked path should hold. */
export type Pointer = z.infer<typeof PointerSchema>;

/**
 * Whether a `.mlx` file is meant as an mlx pointer (ours, even if damaged or mid-merge) rather than
 * someone else's file with the same extension (MATLAB Live Scripts use `.mlx`).
 */
export function isPointerText(text: string): boolean {
  const head = text.slice(0, 4096);
  return head.startsWith('# mlx pointer') || /^(version:\s*\d|kind:\s*(file|dir)\s*$|oid:\s*b3:)/m.test(head);
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
 * written only for an executable file, so pointers of other files read as they always have.
 */
export function serializePointer(p: Pointer): string {
  const ordered: Record<string, unknown> = { version: p.version, path: p.path, kind: p.kind, oid: p.oid, size: p.size };
  if (p.kind === 'dir') ordered.files = p.files;
  else if (p.x === true) ordered.x = true;
  return HEADER + YAML.stringify(ordered, { lineWidth: 0 });
}

/** Parses pointer text; `source` names the file in the error. */
export function parsePointer(text: string, source: string): Pointer {
  if (/^<<<<<<< /m.test(text)) {
    const data = source.replace(/\.mlx(@.*| \(.*)?$/, '');
    throw new MlxError(E.BAD_POINTER, `pointer file ${source} has unresolved merge conflict markers`, {
      hint: `keep one side (git checkout --ours/--theirs ${data}.mlx, then mlx checkout ${data}) or record the workspace with mlx add ${data}`,
      data: { pointer: source },
    });
  }
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw badPointer(source, `not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const parsed = PointerSchema.safeParse(raw);
  if (!parsed.success) throw badPointer(source, describeZodError(parsed.error));
  try {
    assertSafeRelPath(parsed.data.path, 'path');
  } catch (err) {
    throw badPointer(source, (err as Error).message);
  }
  return parsed.data;
}

function badPointer(source: string, why: string): MlxError {
  return new MlxError(E.BAD_POINTER, `malformed pointer file ${source}: ${why}`, {
    hint: `restore it from git (git checkout -- ${source}) or re-add the data`,
    data: { pointer: source },
  });
}
