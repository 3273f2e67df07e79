import { type Oid, oidFromHex } from '../hash/oid.js';
import { isFileEntry, type ManifestEntry } from '../formats/manifest.js';
import { pointerSizeMismatch, POINTER_SUFFIX, type Pointer } from '../formats/pointer.js';
import { packKey } from '../remote/layout.js';
import type { RemoteIndex } from '../remote/remote-index.js';

/*
 * The decisions of `mlx verify` that need no I/O: which objects the pointers need and who needs
 * them, what size each pointer and manifest entry claims, and what a remote's index and listing say
 * is missing. commands/verify.ts reads the cache or the remote and feeds them in.
 */

export interface VerifyProblem {
  oid: Oid;
  /** The tracked paths (or files inside them) that need it. */
  paths: string[];
  /** `size-mismatch`: the pointer's `size` (or `files`) disagrees with the data it names. */
  problem: 'missing' | 'corrupt' | 'pack-missing' | 'size-mismatch';
  /** What is wrong, for problems that need more than the oid to explain. */
  detail?: string;
}

/** What a manifest entry says its object's size is: sizes are part of identity. */
export interface SizeClaim {
  size: number;
  /** The file's repository-relative path. */
  path: string;
  /** The tracked directory whose manifest says it. */
  dir: string;
}

/** The objects a set of pointers needs, in the order first needed, and the sizes claimed for them. */
export class Needs {
  /** Each needed object, with the tracked paths (or files inside them) that need it. */
  readonly paths = new Map<Oid, string[]>();
  readonly claims = new Map<Oid, SizeClaim[]>();

  /** Every pointer needs its object (a file, or a directory's manifest). */
  static ofPointers(pointers: ReadonlyMap<string, Pointer>): Needs {
    const needs = new Needs();
    for (const [p, ptr] of pointers) needs.need(ptr.oid, p);
    return needs;
  }

  /** A tracked directory needs the object of each file its manifest lists, at the size it says. */
  addManifest(dir: string, entries: readonly ManifestEntry[]): void {
    for (const e of entries) {
      if (!isFileEntry(e)) continue;
      const path = `${dir}/${e.p}`;
      this.need(e.o, path);
      append(this.claims, e.o, { size: e.s, path, dir });
    }
  }

  private need(oid: Oid, where: string): void {
    append(this.paths, oid, where);
  }
}

function append<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** A problem when the pointer at `p` disagrees with the size (and file count) of the data it names. */
export function pointerSizeProblems(p: string, ptr: Pointer, size: number, files?: number): VerifyProblem[] {
  const why = pointerSizeMismatch(ptr, size, files);
  return why === undefined ? [] : [{ oid: ptr.oid, paths: [p], problem: 'size-mismatch', detail: `pointer ${p}${POINTER_SUFFIX} ${why}` }];
}

/** A directory pointer checked against the files its manifest lists. */
export function manifestSizeProblems(p: string, ptr: Pointer, entries: readonly ManifestEntry[]): VerifyProblem[] {
  const files = entries.filter(isFileEntry);
  return pointerSizeProblems(p, ptr, files.reduce((n, f) => n + f.s, 0), files.length);
}

/** A problem for each manifest entry that claims another size than its object has. */
export function entrySizeProblems(oid: Oid, claims: readonly SizeClaim[] | undefined, size: number): VerifyProblem[] {
  return (claims ?? []).filter((c) => c.size !== size).map((c) => ({
    oid,
    paths: [c.path],
    problem: 'size-mismatch' as const,
    detail: `the manifest of ${c.dir} says ${c.size} bytes for ${c.path.slice(c.dir.length + 1)}, but its object has ${size}`,
  }));
}

/** Size problems of objects not already reported: a corrupt object's size says nothing about its pointer. */
export function sizeProblemsOfSound(reported: readonly VerifyProblem[], sizes: readonly VerifyProblem[]): VerifyProblem[] {
  const bad = new Set(reported.map((p) => p.oid));
  return sizes.filter((p) => !bad.has(p.oid));
}

/** The needed objects the remote index does not hold, and the packs (with their sizes) that hold the rest. */
export function missingOnRemote(needs: Needs, index: Pick<RemoteIndex, 'locate' | 'packs'>): { problems: VerifyProblem[]; packs: Map<string, number> } {
  const problems: VerifyProblem[] = [];
  const packs = new Map<string, number>();
  for (const [oid, paths] of needs.paths) {
    const loc = index.locate(oid);
    if (!loc) problems.push({ oid, paths, problem: 'missing' });
    else packs.set(loc.packHex, index.packs.get(loc.packHex)!.size);
  }
  return { problems, packs };
}

/**
 * The needed objects whose pack a listing of the remote shows missing or not at the size its index
 * says, pack by pack.
 */
export function packsMissing(needs: Needs, index: Pick<RemoteIndex, 'locate'>, packs: ReadonlyMap<string, number>, listing: readonly { key: string; size: number }[]): VerifyProblem[] {
  const listed = new Map(listing.map((o) => [o.key, o.size]));
  const problems: VerifyProblem[] = [];
  for (const [hex, size] of packs) {
    if (listed.get(packKey(oidFromHex(hex))) === size) continue;
    for (const [oid, paths] of needs.paths) if (index.locate(oid)?.packHex === hex) problems.push({ oid, paths, problem: 'pack-missing' });
  }
  return problems;
}
