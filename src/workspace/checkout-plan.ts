import fs from 'node:fs';
import type { Oid } from '../hash/oid.js';
import { isFileEntry, type FileEntry, type ManifestEntry } from '../formats/manifest.js';
import { pathNotFound } from '../util/errors.js';
import { runSteps, type Step } from '../util/steps.js';
import type { TrackedPath } from './pointers.js';
import type { FileStat, Scanned } from './scan.js';

/*
 * What checkout will do to one tracked path, decided without touching anything. The work tree is
 * read by the caller (the tracked path's kind, and a scan of it when it is a directory); what only
 * some entries need (a file's content oid, a link's target) is asked of a probe, lazily, so no file
 * is hashed that the decision does not need. Paths are relative to the tracked root; '' is the root
 * itself (a tracked file).
 */

/** What checkout will do to one tracked path; computed in full before anything is touched. */
export interface CheckoutPlan {
  tracked: TrackedPath;
  removeFiles: string[];
  /** Deepest first. */
  removeDirs: string[];
  makeDirs: string[];
  writes: FileEntry[];
  /**
   * The paths of `writes` where nothing will be when the file is written (absent from the work tree,
   * or removed first): such a file may be created in place instead of renamed over what is there.
   */
  freshWrites: Set<string>;
  links: { p: string; l: string }[];
  chmods: FileEntry[];
  unchanged: number;
  /** Work-tree paths (repository-relative) whose content is not in the cache and would be lost. */
  conflicts: string[];
  /** Every file the pointer names, in scope or not: the stat index keeps only these. */
  desiredFiles: Set<string>;
}

/** What is at the tracked path in the work tree now. */
export type FoundAtPath = undefined | { kind: 'file' } | { kind: 'link' } | { kind: 'dir'; entries: Scanned[] };

export interface PlanInput {
  tracked: TrackedPath;
  /** Every entry the pointer names (a file pointer: one entry at ''). */
  entries: readonly ManifestEntry[];
  /** Only this part of a tracked directory, when given. */
  sub: string | undefined;
  /** `sub` may be absent from `entries` and the work tree (a kept partial selection): nothing to do then. */
  mayBeAbsent?: boolean;
  /** Replace or remove content that is not in the cache. */
  force: boolean;
  found: FoundAtPath;
}

/** An entry's lstat, as far as the plan looks at it. */
export type EntryStat = FileStat & { isSymbolicLink(): boolean };

/**
 * Answers the plan's questions about the work tree and the cache, each when first needed. Every stat
 * the plan passes back is one that `stat` returned (or, for a scanned file, the scan's).
 */
export interface WorkTreeProbe<S extends EntryStat = EntryStat> {
  /** The lstat of an entry (a link is not followed). */
  stat(p: string): S;
  /** The content oid of a regular file. */
  oid(p: string, st: FileStat): Oid;
  linkTarget(p: string): string;
  /** Whether the entry holds object `oid` in the form the configured link type asks for. */
  holds(p: string, st: S, oid: Oid): boolean;
  inCache(oid: Oid): boolean;
  /** Whether a link target is an object of the cache (a link that checkout made). */
  intoCache(target: string): boolean;
  /** False when checked-out files are hard links to the cache, whose mode they share and must keep. */
  ownModes: boolean;
}

type Present = Scanned | { kind: 'file' | 'link'; rel: string };

/** One plan as its steps fill it in. */
interface Planning {
  input: PlanInput;
  probe: WorkTreeProbe;
  out: CheckoutPlan;
  /** Desired entries in scope, by path. */
  desired: Map<string, ManifestEntry>;
  /** Directories the desired entries in scope need. */
  desiredDirs: Set<string>;
  /** What the work tree holds in scope, by path. */
  present: Map<string, Present>;
  /** Directories the present entries imply (and empty ones found). */
  presentDirs: Set<string>;
}

const PLAN_STEPS: Step<Planning>[] = [scopeDesired, takeStockOfWorkTree, requireSubPath, matchPresentEntries, addAbsentEntries, removeStrayDirs];

/** Plans the checkout of one tracked path: pure, apart from what it asks `probe`. */
export function planCheckout<S extends EntryStat>(input: PlanInput, probe: WorkTreeProbe<S>): CheckoutPlan {
  const ctx: Planning = {
    input, probe,
    out: {
      tracked: input.tracked, removeFiles: [], removeDirs: [], makeDirs: [], writes: [], freshWrites: new Set(), links: [], chmods: [], unchanged: 0, conflicts: [],
      desiredFiles: new Set(input.entries.filter(isFileEntry).map((e) => e.p)),
    },
    desired: new Map(), desiredDirs: new Set(), present: new Map(), presentDirs: new Set(),
  };
  runSteps(ctx, PLAN_STEPS);
  return ctx.out;
}

function inScope({ input: { sub } }: Planning, p: string): boolean {
  return sub === undefined || p === sub || p.startsWith(`${sub}/`);
}

/** Every proper parent directory of `p`. */
function parentsOf(p: string): string[] {
  const out: string[] = [];
  for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) out.push(p.slice(0, i));
  return out;
}

function scopeDesired(ctx: Planning): void {
  for (const e of ctx.input.entries) if (inScope(ctx, e.p)) ctx.desired.set(e.p, e);
  for (const e of ctx.desired.values()) {
    if (!isFileEntry(e) && e.t === 'd') ctx.desiredDirs.add(e.p);
    for (const dir of parentsOf(e.p)) ctx.desiredDirs.add(dir);
  }
}

/** What the work tree holds now, in scope. A directory where a file should be goes whole. */
function takeStockOfWorkTree(ctx: Planning): void {
  const { found, tracked, sub } = ctx.input;
  if (found?.kind === 'dir' && tracked.pointer.kind === 'dir') {
    for (const s of found.entries) {
      if (!inScope(ctx, s.rel) && !(sub && sub.startsWith(`${s.rel}/`))) continue;
      ctx.present.set(s.rel, s);
      if (s.kind === 'emptydir') ctx.presentDirs.add(s.rel);
      for (const dir of parentsOf(s.rel)) ctx.presentDirs.add(dir);
    }
  } else if (found?.kind === 'dir') {
    for (const s of found.entries) {
      if (s.kind === 'file') refuseUnsaved(ctx, s.rel, s.stat);
      else if (s.kind === 'link') refuseUnsaved(ctx, s.rel, ctx.probe.stat(s.rel));
    }
    ctx.out.removeDirs.push('');
  } else if (found) {
    ctx.present.set('', { kind: found.kind, rel: '' });
  }
}

/** A sub-path that neither the pointer nor the work tree has is a mistyped path. */
function requireSubPath(ctx: Planning): void {
  const { sub, tracked, mayBeAbsent } = ctx.input;
  if (sub !== undefined && !mayBeAbsent && ctx.desired.size === 0 && ![...ctx.present.keys()].some((p) => inScope(ctx, p))) {
    throw pathNotFound(`${tracked.path}/${sub} is not part of ${tracked.path}`, { path: `${tracked.path}/${sub}` });
  }
}

/** Each present entry is kept, rewritten, or removed. */
function matchPresentEntries(ctx: Planning): void {
  for (const [p, w] of ctx.present) matchPresent(ctx, p, w);
}

function matchPresent(ctx: Planning, p: string, w: Present): void {
  const { out, probe } = ctx;
  const d = ctx.desired.get(p);
  if (w.kind === 'emptydir') {
    if (!ctx.desiredDirs.has(p)) out.removeDirs.push(p);
    else if (d) out.unchanged++;
    return;
  }
  const st = probe.stat(p);
  if (w.kind === 'file' && d && isFileEntry(d)) return matchFile(ctx, p, st, d);
  if (w.kind === 'link' && d) {
    if (!isFileEntry(d) && d.t === 'l' && probe.linkTarget(p) === d.l) return void out.unchanged++;
    if (isFileEntry(d) && probe.holds(p, st, d.o) && st.isSymbolicLink()) return void out.unchanged++;
  }
  // Anything else present here is replaced or removed.
  refuseUnsaved(ctx, p, st);
  out.removeFiles.push(p);
  if (d && isFileEntry(d)) addFreshWrite(out, d);
  else if (d && d.t === 'l') out.links.push({ p, l: d.l });
}

/** A file where a file should be: kept when it has the content (in the right form), else rewritten. */
function matchFile(ctx: Planning, p: string, st: EntryStat, d: FileEntry): void {
  const { out, probe } = ctx;
  const oid = probe.oid(p, st);
  if (oid !== d.o) {
    refuseUnsaved(ctx, p, st, oid);
    out.writes.push(d);
  } else if (!probe.holds(p, st, d.o)) {
    out.writes.push({ ...d, p });
  } else {
    out.unchanged++;
    if (probe.ownModes && ((st.mode & 0o111) !== 0) !== d.x) out.chmods.push(d);
  }
}

/** A write to a path that will be empty when it is written. */
function addFreshWrite(out: CheckoutPlan, d: FileEntry): void {
  out.writes.push(d);
  out.freshWrites.add(d.p);
}

/** Desired entries the work tree lacks are written, linked or made. */
function addAbsentEntries({ desired, present, presentDirs, out }: Planning): void {
  for (const [p, d] of desired) {
    if (present.has(p)) continue;
    if (isFileEntry(d)) addFreshWrite(out, d);
    else if (d.t === 'l') out.links.push({ p, l: d.l });
    else if (!presentDirs.has(p)) out.makeDirs.push(p);
  }
}

/** Directories no desired entry needs go, deepest first. */
function removeStrayDirs({ desiredDirs, present, presentDirs, out }: Planning): void {
  for (const dir of presentDirs) if (!desiredDirs.has(dir) && !present.has(dir)) out.removeDirs.push(dir);
  out.removeDirs.sort((a, b) => b.length - a.length);
}

/**
 * Notes a conflict when the entry's content is not in the cache (it would be lost), unless `force`.
 * A link counts as saved only when it points into the cache.
 */
function refuseUnsaved(ctx: Planning, p: string, st: FileStat, oid?: Oid): void {
  const { input, probe, out } = ctx;
  if (input.force) return;
  const key = p === '' ? input.tracked.path : `${input.tracked.path}/${p}`;
  if ((st.mode & fs.constants.S_IFMT) === fs.constants.S_IFLNK) {
    if (!probe.intoCache(probe.linkTarget(p))) out.conflicts.push(key);
    return;
  }
  if (!probe.inCache(oid ?? probe.oid(p, st))) out.conflicts.push(key);
}
