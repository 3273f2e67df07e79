import { checkoutRevision, revisionArgument } from '../../commands/checkout.js';
import { checkout } from '../../workspace/checkout.js';
import { diff, type DiffResult, type PathChange } from '../../repository/diff.js';
import { openRepo } from '../../workspace/repo.js';
import { ls } from '../../repository/revisions.js';
import { toRepoPath } from '../../workspace/repo.js';
import { verify } from '../../commands/verify.js';
import { shortOid } from '../../hash/oid.js';
import { E, MlxError } from '../../util/errors.js';
import { formatBytes, type Output } from '../output.js';
import { withProgress } from '../progress.js';

export async function runCheckout(out: Output, args: string[], opts: { force?: boolean }): Promise<void> {
  const repo = await openRepo(out.cwd);
  const rev = await revisionArgument(repo, out.cwd, args);
  const onLockWait = (o: { pid: number }) => out.info(`waiting for another mlx process (pid ${o.pid}) to finish...`);
  if (rev === undefined) {
    const res = await withProgress(out, 'checkout', (progress) => checkout(repo, out.cwd, args, { force: opts.force, progress, onLockWait }));
    out.result(res, () => res.paths.filter((p) => p.written + p.removed > 0).map((p) => `updated  ${p.path}  (${p.written} written, ${p.removed} removed, ${p.unchanged} unchanged)`));
    return;
  }
  const res = await withProgress(out, 'checkout', (progress) => checkoutRevision(repo, rev, { force: opts.force, progress, onLockWait }));
  out.result(res, () => [
    `checked out the tracked data of ${rev} (${res.commit.slice(0, 12)})${res.fetched ? `, fetched ${res.fetched} object(s)` : ''}`,
    ...res.paths.filter((p) => p.written + p.removed > 0).map((p) => `updated  ${p.path}  (${p.written} written, ${p.removed} removed, ${p.unchanged} unchanged)`),
    ...res.notAtRevision.map((p) => `left as is: ${p} (not tracked at ${rev})`),
  ]);
}

export async function runLs(out: Output, rev: string | undefined, sub: string | undefined): Promise<void> {
  const repo = await openRepo(out.cwd);
  // One argument that is not a revision means `ls <path>` at the work tree.
  if (rev !== undefined && sub === undefined && (await revisionArgument(repo, out.cwd, [rev])) === undefined) [rev, sub] = [undefined, rev];
  const res = await ls(repo, rev, sub === undefined ? undefined : toRepoPath(repo, out.cwd, sub));
  out.result(res, () => [
    ...res.rows.map((r) => `${shortOid(r.oid)}  ${formatBytes(r.size).padStart(10)}  ${r.path}${r.kind === 'dir' ? `/  (${r.files} files)` : ''}`),
    ...res.incomplete.map((p) => `(the files of ${p} are not listed: its manifest is neither in the cache nor on a remote)`),
  ]);
}

export async function runDiff(out: Output, a: string | undefined, b: string | undefined, opts: { md?: boolean }): Promise<void> {
  const repo = await openRepo(out.cwd);
  const res = await diff(repo, a, b);
  out.result(res, () => (opts.md ? markdown(res) : text(res)));
}

function sizeChange(c: PathChange | { oldSize?: number; newSize?: number }): string {
  if (c.oldSize === undefined) return formatBytes(c.newSize ?? 0);
  if (c.newSize === undefined) return formatBytes(c.oldSize);
  if (c.oldSize === c.newSize) return formatBytes(c.newSize);
  const d = c.newSize - c.oldSize;
  return `${formatBytes(c.oldSize)} → ${formatBytes(c.newSize)} (${d > 0 ? '+' : '-'}${formatBytes(Math.abs(d))})`;
}

function text(res: DiffResult): string[] {
  if (res.changes.length === 0) return [`no changes between ${res.from.rev} and ${res.to.rev}`];
  const lines: string[] = [];
  for (const c of res.changes) {
    const name = c.change === 'renamed' ? `${c.from} → ${c.path}` : c.path;
    lines.push(`${c.change.padEnd(9)} ${name}${c.kind === 'dir' ? '/' : ''}  ${sizeChange(c)}`);
    for (const f of c.files ?? []) lines.push(`    ${f.change.padEnd(9)} ${c.path}/${f.path}  ${sizeChange(f)}`);
    if (c.filesUnknown) lines.push('    (file list unknown: a manifest is not in the cache; mlx fetch it)');
  }
  return lines;
}

function markdown(res: DiffResult): string[] {
  const lines = [`### Data changes: \`${res.from.rev}\` → \`${res.to.rev}\``, ''];
  if (res.changes.length === 0) return [...lines, 'No tracked data changed.'];
  lines.push('| change | path | size | files |', '| --- | --- | --- | --- |');
  for (const c of res.changes) {
    const files = c.files ? `${c.files.filter((f) => f.change === 'added').length} added, ${c.files.filter((f) => f.change === 'modified').length} modified, ${c.files.filter((f) => f.change === 'deleted').length} deleted` : c.filesUnknown ? 'unknown' : '';
    const name = c.change === 'renamed' ? `\`${c.from}\` → \`${c.path}\`` : `\`${c.path}\``;
    lines.push(`| ${c.change} | ${name} | ${sizeChange(c)} | ${files} |`);
  }
  const detailed = res.changes.filter((c) => c.files?.length);
  for (const c of detailed) {
    lines.push('', `<details><summary><code>${c.path}</code>: ${c.files!.length} file(s) changed</summary>`, '');
    for (const f of c.files!.slice(0, 200)) lines.push(`- ${f.change} \`${f.path}\` ${sizeChange(f)}`);
    if (c.files!.length > 200) lines.push(`- … and ${c.files!.length - 200} more`);
    lines.push('', '</details>');
  }
  return lines;
}

export async function runVerify(out: Output, rev: string | undefined, opts: { remote?: boolean; remoteName?: string; data?: boolean }): Promise<void> {
  if (opts.data && !opts.remote && !opts.remoteName) throw new MlxError(E.USAGE, '--data goes with --remote or -r: the cache is always checked byte for byte');
  const repo = await openRepo(out.cwd);
  const res = await withProgress(out, 'verify', (progress) => verify(repo, rev, { remote: opts.remote || !!opts.remoteName, remoteName: opts.remoteName, data: opts.data, progress }));
  out.result(res, () => [
    ...res.problems.map((p) =>
      p.detail !== undefined
        ? `${p.problem.padEnd(12)} ${p.oid}  ${p.detail}`
        : `${p.problem.padEnd(12)} ${p.oid}  needed by ${p.paths.slice(0, 3).join(', ')}${p.paths.length > 3 ? ` and ${p.paths.length - 3} more` : ''}`,
    ),
    `${res.problems.length === 0 ? 'ok' : 'FAILED'}: checked ${res.checked} object(s) of ${res.rev} in ${res.where === 'cache' ? 'the cache' : `remote ${res.where}`}`,
  ]);
  if (res.problems.length > 0) {
    throw new MlxError(E.VERIFY_FAILED, `verify found ${res.problems.length} problem(s) in ${res.where === 'cache' ? 'the cache' : `remote ${res.where}`}`, {
      hint: res.where === 'cache' ? 'mlx pull to restore them, or re-add the data' : 'mlx push --repair from a machine that has the data',
    });
  }
}
