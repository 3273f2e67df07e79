import { add, DAMAGE_HINT, describeDamage } from '../../commands/add.js';
import { formatBytes, type Output } from '../output.js';
import { withProgress } from '../progress.js';

export async function runAdd(out: Output, paths: string[]): Promise<void> {
  const res = await withProgress(out, 'add', (progress) => add({ cwd: out.cwd, paths, progress, onLockWait: (o) => out.info(`waiting for another mlx process (pid ${o.pid}) to finish...`) }));
  for (const s of res.skipped) out.warn(`skipped ${s.path}: ${s.why}`);
  for (const d of res.damaged) out.warn(`${describeDamage(d)} (${DAMAGE_HINT})`);
  const { toGitAdd, ...reported } = res; // what to stage is said in words; --json reports the paths
  out.result(reported, () => [
    ...res.paths.map((p) => `${p.changed ? 'added' : 'unchanged'}  ${p.path}  (${p.kind === 'dir' ? `${p.files} files, ` : ''}${formatBytes(p.size)})`),
    ...(res.paths.some((p) => p.changed) ? [`To track the changes with git, run:\n  git add ${toGitAdd.map(shellQuote).join(' ')}`] : []),
  ]);
  out.verbose(`hashed ${res.hashedFiles} file(s), ${formatBytes(res.hashedBytes)}`);
}

/** A path as a POSIX shell reads it back: quoted when it holds anything but plain characters. */
export function shellQuote(p: string): string {
  return /^[\w./@%+=:,-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}
