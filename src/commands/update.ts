import { serializePointer, type Pointer, type PointerSource } from '../formats/pointer.js';
import type { TransferProgress } from '../remote/transfer-progress.js';
import { importedPointer } from '../repository/imports.js';
import { withSourceRepository } from '../repository/import-source.js';
import { badUsage } from '../util/errors.js';
import { checkoutSelection, type CheckoutResult } from '../workspace/checkout.js';
import { writePointer, type TrackedPath } from '../workspace/pointers.js';
import { openRepo } from '../workspace/repo.js';
import { selectTracked } from '../workspace/targets.js';

export interface UpdateOptions {
  cwd: string;
  /** Imported paths to update (default: every imported path). */
  paths?: string[];
  /** Move the pin to this revision of the source (default: the revision recorded, else the source's HEAD). */
  rev?: string;
  /** Overwrite work-tree content of an imported path that is not in the cache. */
  force?: boolean;
  jobs?: number;
  progress?: TransferProgress;
}

/** What happened to one imported path: `data` when its content changed, `pin` when only the commit did. */
export interface UpdatedPath {
  path: string;
  change: 'data' | 'pin' | 'none';
  from: Pick<Pointer, 'oid' | 'size'> & { files?: number; source: PointerSource };
  to: Pick<Pointer, 'oid' | 'size'> & { files?: number; source: PointerSource };
}

export interface UpdateResult {
  paths: UpdatedPath[];
  checkout: CheckoutResult;
}

/**
 * `mlx update [paths...] [--rev R]`: moves imported paths to another commit of their source (the
 * revision they record, or `rev`), fetching the new data first; nothing changes in the work tree until
 * every source has answered and the checkout is planned.
 */
export async function update(opts: UpdateOptions): Promise<UpdateResult> {
  const repo = await openRepo(opts.cwd);
  const named = (opts.paths ?? []).length > 0;
  const imported: TrackedPath[] = [];
  for (const s of selectTracked(repo, opts.cwd, opts.paths ?? [])) {
    if (s.tracked.pointer.source === undefined) {
      if (named) throw badUsage(`${s.tracked.path} is not imported (its pointer records no source): nothing to update`, { hint: 'mlx import brings a path of another repository' });
      continue;
    }
    if (s.sub !== undefined) throw badUsage(`${s.tracked.path}/${s.sub} lies inside the imported ${s.tracked.path}: update it as a whole`);
    imported.push(s.tracked);
  }
  const bySource = new Map<string, TrackedPath[]>();
  for (const t of imported) bySource.set(t.pointer.source!.repo, [...(bySource.get(t.pointer.source!.repo) ?? []), t]);
  const next = new Map<string, Pointer>();
  for (const [recorded, paths] of bySource) {
    await withSourceRepository(recorded, repo.root, async (src) => {
      for (const t of paths) {
        const source = t.pointer.source!;
        const got = await importedPointer(repo, src, recorded, source.path, opts.rev ?? source.rev, t.path, opts);
        next.set(t.path, got.pointer);
      }
    });
  }
  const results = imported.map((t) => describeUpdate(t.path, t.pointer, next.get(t.path)!));
  const changed = imported.filter((t) => serializePointer(t.pointer) !== serializePointer(next.get(t.path)!));
  const selection = changed.map((t) => ({ tracked: { ...t, pointer: next.get(t.path)! } }));
  const checkout = selection.length === 0 ? { paths: [] } : await checkoutSelection(repo, selection, { force: opts.force }, () => {
    for (const s of selection) writePointer(repo, s.tracked.pointer);
  });
  return { paths: results, checkout };
}

function describeUpdate(path: string, before: Pointer, after: Pointer): UpdatedPath {
  const side = (p: Pointer) => ({ oid: p.oid, size: p.size, ...(p.kind === 'dir' ? { files: p.files } : {}), source: p.source! });
  const change = before.oid !== after.oid || before.kind !== after.kind ? 'data' : serializePointer(before) !== serializePointer(after) ? 'pin' : 'none';
  return { path, change, from: side(before), to: side(after) };
}
