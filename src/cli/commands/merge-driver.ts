import { mergeDriver } from '../../commands/merge-driver.js';
import { mergeConflict } from '../../util/errors.js';
import type { Output } from '../output.js';

export async function runMergeDriver(out: Output, base: string, ours: string, theirs: string, name: string): Promise<void> {
  const res = await mergeDriver({ cwd: out.cwd, base, ours, theirs, path: name });
  if (!res.merged && res.runs?.length) {
    // Only these runs are marked in the file; everything else merged.
    const runs = res.runs;
    throw mergeConflict(`merge conflict in ${name}: run${runs.length > 1 ? 's' : ''} ${runs.join(', ')} changed on both branches (every other run merged)`, {
      hint: `keep one version: mlx resolve ${runs.join(' ')} --ours (or --theirs), then git add ${name}`,
    });
  }
  if (!res.merged) {
    throw mergeConflict(`merge conflict in ${name}: ${res.conflicts.slice(0, 5).join(', ')}${res.conflicts.length > 5 ? ` and ${res.conflicts.length - 5} more` : ''}`, {
      hint: `edit ${name} to keep one side (or git checkout --ours/--theirs ${name}), then mlx checkout and git add it`,
    });
  }
  out.verbose(`mlx merge-driver: ${name} merged (${res.how})`);
}
