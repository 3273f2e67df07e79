import fs from 'node:fs';
import path from 'node:path';
import { badState } from '../util/errors.js';
import { readFileIfExists, writeFileAtomicSync } from '../util/fs.js';
import type { Layout } from './layout.js';
import type { Selection } from './targets.js';

/*
 * A partial checkout is a recorded state, not a guess: when checkout materialises only some parts of a
 * tracked directory that was not in the work tree, `.mlx/state/partial.json` names the parts asked for
 * (paths inside the directory). Status then tells a file never checked out from one the user deleted,
 * and `checkout <rev>` keeps the selection. A whole checkout of the directory clears its record.
 * Local to this clone (never committed); written atomically, so a crash leaves the old or the new record.
 */

const VERSION = 1;

export class PartialCheckouts {
  private constructor(
    private readonly file: string,
    private readonly dirs: Map<string, string[]>,
  ) {}

  static load(layout: Pick<Layout, 'partialFile'>): PartialCheckouts {
    return new PartialCheckouts(layout.partialFile, parsePartial(readFileIfExists(layout.partialFile), layout.partialFile));
  }

  /** The parts of tracked directory `tracked` that were asked for, or undefined when it is not partial. */
  selectionOf(tracked: string): string[] | undefined {
    return this.dirs.get(tracked);
  }

  get trackedPaths(): string[] {
    return [...this.dirs.keys()];
  }

  /** Adds parts to the selection of `tracked` (starting one when it has none). */
  widen(tracked: string, subs: string[]): void {
    this.dirs.set(tracked, normalise([...(this.dirs.get(tracked) ?? []), ...subs]));
  }

  /** `tracked` is whole (or no longer tracked): forget its selection. */
  forget(tracked: string): void {
    this.dirs.delete(tracked);
  }

  /** Writes the record (durably: it decides what status calls deleted), or removes it when empty. */
  save(): void {
    if (this.dirs.size === 0) {
      fs.rmSync(this.file, { force: true });
      return;
    }
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const dirs = Object.fromEntries([...this.dirs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    writeFileAtomicSync(this.file, `${JSON.stringify({ version: VERSION, dirs }, null, 2)}\n`);
  }
}

/**
 * `selection` with each partial directory narrowed to its recorded parts, which may be absent from the
 * pointer's data (another revision's): what `checkout <rev>` and the post-checkout hook check out, so
 * switching revisions keeps a partial checkout partial, as git's sparse checkout does.
 */
export function keepPartial(partial: PartialCheckouts, selection: Selection[]): Selection[] {
  return selection.flatMap((s): Selection[] => {
    const parts = s.sub === undefined && s.tracked.pointer.kind === 'dir' ? partial.selectionOf(s.tracked.path) : undefined;
    return parts ? parts.map((sub) => ({ tracked: s.tracked, sub, mayBeAbsent: true })) : [s];
  });
}

/** Whether `p` (a path inside a tracked directory) lies in one of the selected parts. */
export function inSelection(selection: readonly string[], p: string): boolean {
  return selection.some((s) => p === s || p.startsWith(`${s}/`));
}

/** Sorted, without duplicates and without parts that lie inside another part. */
function normalise(subs: string[]): string[] {
  const unique = [...new Set(subs)].sort();
  return unique.filter((s) => !unique.some((o) => o !== s && s.startsWith(`${o}/`)));
}

function parsePartial(text: string | undefined, file: string): Map<string, string[]> {
  if (text === undefined) return new Map();
  const unreadable = (why: string) =>
    badState(`${file} is unreadable (${why})`, { path: file, hint: 'remove it and run mlx pull (or mlx checkout) to check out every tracked path whole' });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw unreadable('not JSON');
  }
  const d = doc as { version?: unknown; dirs?: unknown };
  if (typeof d !== 'object' || d === null || d.version !== VERSION || typeof d.dirs !== 'object' || d.dirs === null) throw unreadable(`expected {"version":${VERSION},"dirs":{...}}`);
  const out = new Map<string, string[]>();
  for (const [k, v] of Object.entries(d.dirs)) {
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s !== '')) throw unreadable(`the selection of ${k} is not a list of paths`);
    out.set(k, normalise(v as string[]));
  }
  return out;
}
