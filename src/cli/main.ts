import { Command, CommanderError } from 'commander';
import { MlxError } from '../util/errors.js';
import { removeOwnTemps } from '../util/fs.js';
import { jsonResultPrinted, Output, type GlobalOptions } from './output.js';
import { version } from './version.js';

/** For a flag that may be repeated: every value, in order. */
const collect = (value: string, all: string[] | undefined): string[] => [...(all ?? []), value];

/**
 * The CLI entry: declares commands, imports each command's module only when it runs (so `--help`
 * starts fast), and is the only place that prints errors and picks the exit code.
 */
export async function main(argv: string[]): Promise<number> {
  honourSignals();
  const program = createProgram(argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    return reportError(err, program.opts<GlobalOptions>());
  }
}

/**
 * The program with the commands `argv` needs: the one it names, or every command (for `--help`, a
 * misspelt command, or options commandNameIn does not read).
 */
export function createProgram(argv: string[]): Command {
  const program = new Command('mlx')
    .description('Version datasets, checkpoints and experiment records next to your code in git.')
    .version(version(), '-V, --version')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('-q, --quiet', 'print nothing but errors')
    .option('-v, --verbose', 'print more detail')
    .option('-C, --cwd <dir>', 'run as if started in <dir>')
    .exitOverride()
    .showSuggestionAfterError();
  const out = () => new Output(program.opts<GlobalOptions>());
  // One command runs: declaring the others (their options, arguments and help) would only cost start-up.
  const word = commandNameIn(argv);
  const named = COMMANDS.find(([name]) => name === (ALIASES[word ?? ''] ?? word));
  for (const [, declare] of named ? [named] : COMMANDS) declare(program, out);
  return program;
}

/** Declares one top-level command (and its subcommands) on `program`. */
type Declare = (program: Command, out: () => Output) => void;

const transfer = (cmd: Command) => cmd.option('-r, --remote <name>', 'remote to use (default: core.remote)').option('-j, --jobs <n>', 'parallel transfers');

/** Other words for commands, as commander knows them through `.alias()`. */
const ALIASES: Record<string, string> = { rm: 'remove', mv: 'move' };

/** Every command, in the order of `mlx --help`. */
const COMMANDS: [name: string, declare: Declare][] = [
  ['init', (program, out) => {
    program.command('init').description('set up mlx in the current git repository').action(async () => (await import('./commands/init.js')).runInit(out()));
  }],
  ['add', (program, out) => {
    program
      .command('add')
      .description('store files or directories in the cache and write their .mlx pointer files (leaving out what .mlxignore and the built-in rules ignore)')
      .argument('<paths...>', 'files or directories to track')
      .action(async (paths: string[]) => (await import('./commands/add.js')).runAdd(out(), paths));
  }],
  ['remove', (program, out) => {
    program
      .command('remove')
      .alias('rm')
      .description('stop tracking paths: delete their .mlx pointer files and .gitignore entries; the data stays in the work tree, the objects in the cache')
      .argument('<paths...>', 'tracked paths (or their .mlx files)')
      .option('--outs', 'also delete the data from the work tree')
      .action(async (paths: string[], opts: { outs?: boolean }) => (await import('./commands/remove.js')).runRemove(out(), paths, opts));
  }],
  ['move', (program, out) => {
    program
      .command('move')
      .alias('mv')
      .description('move a tracked file or directory with its .mlx pointer file and .gitignore entry; never overwrites')
      .argument('<src>', 'a tracked path (or its .mlx file)')
      .argument('<dst>', 'the new path, or an existing folder to move it into')
      .action(async (src: string, dst: string) => (await import('./commands/move.js')).runMove(out(), src, dst));
  }],
  ['status', (program, out) => {
    program
      .command('status')
      .description('show tracked paths that differ from their pointers or are missing from the cache')
      .argument('[paths...]', 'limit to these tracked paths')
      .option('--remote', 'instead, show what the remote does not have yet')
      .option('-r, --remote-name <name>', 'the remote for --remote (default: core.remote)')
      .action(async (paths: string[], opts: { remote?: boolean; remoteName?: string }) =>
        opts.remote || opts.remoteName
          ? (await import('./commands/remote-status.js')).runRemoteStatus(out(), paths, opts.remoteName)
          : (await import('./commands/status.js')).runStatus(out(), paths),
      );
  }],
  ['checkout', (program, out) => {
    program
      .command('checkout')
      .description('make the work tree match the pointer files, or restore the tracked data of a revision')
      .argument('[rev-or-paths...]', 'a commit, branch or tag; or tracked paths (or paths inside them)')
      .option('-f, --force', 'overwrite or delete work-tree content that is not in the cache')
      .action(async (args: string[], opts: { force?: boolean }) => (await import('./commands/checkout.js')).runCheckout(out(), args, opts));
  }],
  ['ls', (program, out) => {
    program
      .command('ls')
      .description('list tracked paths at a revision with sizes and oids (files inside a directory when given one), here or in another repository')
      .argument('[repo-or-rev]', 'another repository (a url, or the top folder of another git repository), or a commit, branch or tag of this one (default: the work tree)')
      .argument('[path]', 'a tracked path, or a path inside one')
      .option('--rev <rev>', 'at this revision (of the other repository: default its HEAD)')
      .action(async (first: string | undefined, sub: string | undefined, opts: { rev?: string }) =>
        (await import('./commands/ls.js')).runLs(out(), [first, sub].filter((a): a is string => a !== undefined), opts));
  }],
  ['cat', (program, out) => {
    program
      .command('cat')
      .description("write a tracked file's bytes as a revision's pointers name them (default: the work tree's) to stdout, or to a new file")
      .argument('<path>', 'a tracked file, or a file inside a tracked directory')
      .option('--rev <rev>', 'a commit, branch or tag')
      .option('-o, --out <file>', 'write to this new file instead (needed with --json)')
      .action(async (file: string, opts: { rev?: string; out?: string }) => (await import('./commands/cat.js')).runCat(out(), file, opts));
  }],
  ['import', (program, out) => {
    program
      .command('import')
      .description("bring a path another mlx repository tracks into this one, pinned at one of its commits (its data comes from the source's remote)")
      .argument('<repo>', 'the source repository: a git url or a local path')
      .argument('<path>', 'a path the source tracks')
      .option('--rev <rev>', 'a branch, tag or commit of the source (default: its HEAD)')
      .option('-o, --out <path>', 'where to put it (default: the last name of <path>)')
      .option('-j, --jobs <n>', 'parallel transfers')
      .action(async (repo: string, path: string, opts) => (await import('./commands/import.js')).runImport(out(), repo, path, opts));
  }],
  ['get', (program, out) => {
    program
      .command('get')
      .description('download a path another mlx repository tracks as plain files, without tracking them')
      .argument('<repo>', 'the source repository: a git url or a local path')
      .argument('<path>', 'a path the source tracks')
      .option('--rev <rev>', 'a branch, tag or commit of the source (default: its HEAD)')
      .option('-o, --out <path>', 'where to write it (default: the last name of <path>)')
      .option('-j, --jobs <n>', 'parallel transfers')
      .action(async (repo: string, path: string, opts) => (await import('./commands/get.js')).runGet(out(), repo, path, opts));
  }],
  ['update', (program, out) => {
    program
      .command('update')
      .description('move imported paths to another commit of their source (the revision they record, or --rev) and say what changed')
      .argument('[paths...]', 'imported paths (default: every imported path)')
      .option('--rev <rev>', 'a branch, tag or commit of the source, recorded as the new revision')
      .option('-f, --force', 'overwrite work-tree content that is not in the cache')
      .option('-j, --jobs <n>', 'parallel transfers')
      .action(async (paths: string[], opts) => (await import('./commands/update.js')).runUpdate(out(), paths, opts));
  }],
  ['diff', (program, out) => {
    program
      .command('diff')
      .description('tracked data added, deleted, renamed and modified between two revisions (default HEAD and the work tree)')
      .argument('[a]', 'from (default HEAD)')
      .argument('[b]', 'to (default: the work tree)')
      .option('--md', 'Markdown, for a pull request comment')
      .action(async (a: string | undefined, b: string | undefined, opts: { md?: boolean }) => (await import('./commands/diff.js')).runDiff(out(), a, b, opts));
  }],
  ['verify', (program, out) => {
    program
      .command('verify')
      .description('re-hash the objects a revision needs (or check the remote has them); exits non-zero on any problem')
      .argument('[rev]', 'a commit, branch or tag (default: the work tree)')
      .option('--remote', 'check the default remote instead of the cache')
      .option('-r, --remote-name <name>', 'check this remote')
      .option('--data', 'with a remote: also download and hash every object (finds damaged copies)')
      .action(async (rev: string | undefined, opts: { remote?: boolean; remoteName?: string; data?: boolean }) => (await import('./commands/verify.js')).runVerify(out(), rev, opts));
  }],
  ['config', (program, out) => {
    program
      .command('config')
      .description('get or set configuration (cache.dir, cache.type, cache.verify, core.remote); the repository\'s settings win over the user-wide ones')
      .argument('[key]', 'dotted key, e.g. cache.type')
      .argument('[value]', 'new value')
      .option('--local', 'write to the git-ignored .mlx/config.local.yaml')
      .option('--global', 'read or write only the user-wide $XDG_CONFIG_HOME/mlx/config.yaml (default ~/.config/mlx/config.yaml)')
      .option('--unset', 'remove the key')
      .option('-l, --list', 'list all settings')
      .action(async (key: string | undefined, value: string | undefined, opts: { local?: boolean; global?: boolean; unset?: boolean; list?: boolean }) =>
        (await import('./commands/config.js')).runConfig(out(), key, value, opts),
      );
  }],
  ['remote', (program, out) => {
    const remote = program.command('remote').description('manage remotes: directories and S3 (or MinIO, R2, Ceph RGW ...)');
    remote
      .command('add')
      .description('add a remote: s3://bucket/prefix, file:///path or a directory path')
      .argument('<name>')
      .argument('<url>')
      .option('-d, --default', 'make it the default remote')
      .option('--local', 'write to the git-ignored local config (for credentials)')
      .option('-o, --option <key=value...>', 'backend option, e.g. endpoint=http://127.0.0.1:9000 region=eu-west-1 profile=team')
      .action(async (name: string, url: string, opts) => (await import('./commands/remote.js')).runRemoteAdd(out(), name, url, opts));
    remote.command('list').description('list remotes (* marks the default)').action(async () => (await import('./commands/remote.js')).runRemoteList(out()));
    remote.command('remove').argument('<name>').description('remove a remote').action(async (name: string) => (await import('./commands/remote.js')).runRemoteRemove(out(), name));
    remote
      .command('rename')
      .argument('<old>')
      .argument('<new>')
      .description('rename a remote (the default remote follows)')
      .action(async (from: string, to: string) => (await import('./commands/remote.js')).runRemoteRename(out(), from, to));
    remote.command('default').argument('<name>').description('make a remote the default').action(async (name: string) => (await import('./commands/remote.js')).runRemoteDefault(out(), name));
    remote
      .command('modify')
      .description('set one option of a remote (url, endpoint, region, profile, force_path_style, ...)')
      .argument('<name>')
      .argument('<key>')
      .argument('[value]')
      .option('--local', 'write to the git-ignored local config (for credentials)')
      .option('--unset', 'remove the option')
      .action(async (name: string, key: string, value: string | undefined, opts) => (await import('./commands/remote.js')).runRemoteModify(out(), name, key, value, opts));
  }],
  ['push', (program, out) => {
    transfer(program.command('push').description('upload the data the pointers need to a remote').argument('[paths...]', 'limit to these tracked paths'))
      .option('--repair', 'also read back what the remote already has, and send again whatever is damaged')
      .action(async (paths: string[], opts) => (await import('./commands/push.js')).runPush(out(), paths, opts));
  }],
  ['fetch', (program, out) => {
    transfer(program.command('fetch').description('download the data the pointers need into the cache').argument('[paths...]', 'limit to these paths (inside tracked directories too)')).action(
      async (paths: string[], opts) => (await import('./commands/fetch.js')).runFetch(out(), paths, opts),
    );
  }],
  ['pull', (program, out) => {
    transfer(program.command('pull').description('fetch, then checkout').argument('[paths...]', 'limit to these paths (inside tracked directories too)'))
      .option('-f, --force', 'overwrite work-tree content that is not in the cache')
      .action(async (paths: string[], opts) => (await import('./commands/pull.js')).runPull(out(), paths, opts));
  }],
  ['run', (program, out) => {
    program
      .command('run')
      .description('run a command and record it in mlx.lock: deps, params, seed, outputs, metrics, environment')
      .argument('<command...>', 'the command, after --')
      .option('-n, --name <name>', 'run name (default: default)')
      .option('-d, --dep <path...>', 'inputs: data, code, anything the command reads')
      .option('-p, --param <file:keys...>', 'parameters to record, e.g. params.yaml:lr,epochs')
      .option('-o, --out <path...>', 'outputs, stored in the cache and tracked with pointers')
      .option('-M, --metrics <file...>', 'metrics files the command writes: final values (JSON or YAML), per-step histories (.jsonl, .csv, .tsv)')
      .option('-S, --set-param <[file:]key=value>', 'override a param for this run and record it (as dvc exp run -S): params.yaml:train.lr=0.01, +key=value adds, ~key removes', collect)
      .option('--seed <[name=]n>', 'a seed: 42 is given as MLX_SEED, PYTHONHASHSEED, ...; data=7 as MLX_SEED_DATA (repeat for several)', collect)
      .action(async (cmd: string[], flags) => (await import('./commands/run.js')).runRun(out(), cmd, flags));
  }],
  ['params', (program, out) => {
    program
      .command('params')
      .description('print a params file (YAML or JSON) as JSON with --json, else as key=value lines')
      .argument('[file]', 'the params file (default: params.yaml)')
      .action(async (file: string | undefined) => (await import('./commands/params.js')).runParams(out(), file));
  }],
  ['runs', (program, out) => {
    program
      .command('runs')
      .description('the experiment catalog: runs in mlx.lock and in the history of every branch, remote-tracking branch and tag')
      .argument('[runs...]', 'with --compare: the runs to compare, by id, id prefix or name (default: the newest run of each name)')
      .option('--all', 'list every run, not only the newest 50; with --compare, compare every run')
      .option('--compare', 'runs side by side: params and metrics as columns, the best value of each metric marked')
      .option('--params <names>', 'with --compare: the params to show (comma-separated; default all)', collect)
      .option('--metrics <names>', 'with --compare: the metrics to show (comma-separated; name:min or name:max says which way is better)', collect)
      .option('--sort <column[:asc|desc]>', 'with --compare: sort by a param or metric (a metric without an order: best first)')
      .option('--md', 'with --compare: a Markdown table')
      .option('--csv', 'with --compare: CSV')
      .option('--html <file>', 'with --compare: write one self-contained HTML page with the table and the runs\' charts')
      .action(async (names: string[], opts) => (await import('./commands/runs.js')).runRuns(out(), names, opts));
  }],
  ['plots', (program, out) => {
    program
      .command('plots')
      .description('charts of runs: metric histories as lines, final metrics across runs as bars or against a param; SVG files with -o, else drawn in the terminal')
      .argument('[runs...]', 'run ids (or prefixes) or names (default: the runs in mlx.lock)')
      .option('--all', 'every run of the catalog (mlx runs --all)')
      .option('-m, --metrics <names>', 'only these metrics (comma-separated, or repeat the flag)', collect)
      .option('-x, --x <param>', 'plot final metrics against this param (key, or file:key)')
      .option('-o, --output <dir>', 'write one SVG file per chart into this directory')
      .action(async (runs: string[], opts: { all?: boolean; metrics?: string[]; x?: string; output?: string }) => (await import('./commands/plots.js')).runPlots(out(), runs, opts));
  }],
  ['show', (program, out) => {
    program
      .command('show')
      .description('one run in full: command, seed, params, inputs, outputs, metrics, environment')
      .argument('<run>', 'run id (or prefix), or name')
      .action(async (ref: string) => (await import('./commands/show.js')).runShow(out(), ref));
  }],
  ['repro', (program, out) => {
    program
      .command('repro')
      .description('re-run recorded runs whose deps or params changed; --verify compares the environment, then checks a run is deterministic')
      .argument('[names...]', 'runs to consider (default: all in mlx.lock)')
      .option('--verify', 'compare this machine with the recorded environment, then re-run from the same inputs and seed and compare every output byte for byte (records nothing)')
      .option('-f, --force', 're-run even when up to date')
      .action(async (names: string[], opts: { verify?: boolean; force?: boolean }) => (await import('./commands/repro.js')).runRepro(out(), names, opts));
  }],
  ['lineage', (program, out) => {
    program
      .command('lineage')
      .description('how an artifact was produced: the runs and inputs behind it, across commits')
      .argument('<path>', 'a tracked path (or a path inside a tracked directory)')
      .option('--rev <rev>', 'at this revision (default: the work tree)')
      .option('--format <format>', 'text, mermaid, dot or json', 'text')
      .action(async (target: string, opts: { rev?: string; format?: string }) => (await import('./commands/lineage.js')).runLineage(out(), target, opts));
  }],
  ['report', (program, out) => {
    program
      .command('report')
      .description('a pull-request review: data, runs, params, metrics, environments and lineage changed since a base')
      .argument('[base]', 'compare with this revision (default: the merge base with origin/HEAD, origin/main or main; else HEAD~1)')
      .argument('[head]', 'up to this revision (default: the work tree)')
      .option('--md', 'GitHub-flavoured Markdown, for a pull request comment')
      .option('--html <file>', 'write one self-contained HTML page (tables, charts, lineage graph; no script, no network)')
      .action(async (base: string | undefined, head: string | undefined, opts: { md?: boolean; html?: string }) => (await import('./commands/report.js')).runReport(out(), base, head, opts));
  }],
  ['gc', (program, out) => {
    program
      .command('gc')
      .description('remove cache (or remote) objects that no kept pointer needs; the work tree and HEAD are always kept')
      .option('-b, --branch <name...>', 'keep these branches (local, or remote-tracking such as origin/feat)')
      .option('-a, --all-branches', 'keep every local and remote-tracking branch')
      .option('-t, --tag <name...>', 'keep these tags')
      .option('-T, --all-tags', 'keep every tag')
      .option('--rev <rev...>', 'keep these revisions')
      .option('--last <n>', 'of HEAD and each kept branch, keep the last n commits')
      .option('--days <n>', 'of HEAD and each kept branch, keep the commits of the last n days')
      .option('-n, --dry-run', 'only say what would be removed and how many bytes')
      .option('--keep-recent <minutes>', 'spare objects written in the last minutes (default 10; a concurrent add may not have written its pointer yet)')
      .option('-f, --force', 'collect even when a kept pointer or manifest cannot be read')
      .option('--remote', 'collect on the default remote (two-phase: mark now, remove on a later run)')
      .option('-r, --remote-name <name>', 'collect on this remote')
      .option('--grace <minutes>', 'with --remote: how old a mark must be before its packs go (default 60)')
      .option('--git-remote <name>', 'with --remote: keep every branch and tag of this git remote (default: the upstream of the current branch, else origin)')
      .option('--local-refs', "with --remote: do not ask the git remote; keep only what this clone's refs and the rules name")
      .action(async (flags) => (await import('./commands/gc.js')).runGc(out(), flags));
  }],
  ['install', (program, out) => {
    program
      .command('install')
      .description('install git hooks (post-checkout, pre-push, pre-commit) and the merge driver for pointers')
      .action(async () => (await import('./commands/install.js')).runInstall(out()));
  }],
  ['resolve', (program, out) => {
    program
      .command('resolve')
      .description('finish a merge in which both branches changed the same run: keep one version of it in mlx.lock (and of its output pointers)')
      .argument('[runs...]', 'the runs in conflict (default: every run in conflict)')
      .option('--ours', 'keep the version of the branch being merged into')
      .option('--theirs', 'keep the version of the branch being merged')
      .action(async (runs: string[], opts: { ours?: boolean; theirs?: boolean }) => (await import('./commands/resolve.js')).runResolve(out(), runs, opts));
  }],
  ['hook', (program, out) => {
    program
      .command('hook', { hidden: true })
      .argument('<name>')
      .argument('[args...]')
      .action(async (name: string, args: string[]) => (await import('./commands/hook.js')).runHook(out(), name, args));
  }],
  ['merge-driver', (program, out) => {
    program
      .command('merge-driver', { hidden: true })
      .description('git merge driver: mlx merge-driver %O %A %B %P')
      .argument('<base>')
      .argument('<ours>')
      .argument('<theirs>')
      .argument('<path>')
      .action(async (base: string, ours: string, theirs: string, name: string) => (await import('./commands/merge-driver.js')).runMergeDriver(out(), base, ours, theirs, name));
  }],
  ['env', (program, out) => {
    const env = program.command('env').description('record and compare the environment runs execute in (OS, CPU, GPUs, interpreters, package lockfiles)');
    env.command('capture').description('store a record of this machine\'s environment in the cache and print its oid').action(async () => (await import('./commands/env.js')).runEnvCapture(out()));
    env
      .command('diff')
      .description('fields and packages that differ between the environments of two runs (or two environment records)')
      .argument('<a>', 'a run (id, id prefix or name), or an environment record oid (or b3: prefix of 8+ hex digits)')
      .argument('<b>', 'the other record')
      .action(async (a: string, b: string) => (await import('./commands/env.js')).runEnvDiff(out(), a, b));
    env
      .command('show')
      .description('print a stored environment record: of a run, or by its oid')
      .argument('<ref>', 'a run (id, id prefix or name), or an environment record oid (or b3: prefix of 8+ hex digits)')
      .action(async (ref: string) => (await import('./commands/env.js')).runEnvShow(out(), ref));
    env
      .command('export')
      .description('write what rebuilds a recorded environment: pinned packages, interpreter, base image; GPU, driver and OS as comments')
      .argument('<ref>', 'a run (id, id prefix or name), or an environment record oid (or b3: prefix of 8+ hex digits)')
      .requiredOption('--format <format>', 'requirements, conda, uv (a pyproject.toml), dockerfile or json')
      .option('-o, --output <file>', 'write to this file (default: stdout)')
      .action(async (ref: string, opts: { format: string; output?: string }) => (await import('./commands/env.js')).runEnvExport(out(), ref, opts));
    env
      .command('check')
      .description('compare this machine with a recorded environment and list what differs (exit 1 when anything does)')
      .argument('<ref>', 'a run (id, id prefix or name), or an environment record oid (or b3: prefix of 8+ hex digits)')
      .action(async (ref: string) => (await import('./commands/env.js')).runEnvCheck(out(), ref));
  }],
  ['doctor', (program, out) => {
    program.command('doctor').description('show versions, cache location and supported link types').action(async () => (await import('./commands/doctor.js')).runDoctor(out()));
  }],
];

/**
 * The command `argv` names, found without commander: the first word after the global options. Undefined
 * when an option before it is not one of those (commander then reports it with every command declared).
 */
export function commandNameIn(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-C' || arg === '--cwd') i++;
    else if (!/^(--json|--quiet|--verbose|-q|-v|--cwd=.*|-C.+)$/.test(arg)) return arg.startsWith('-') ? undefined : arg;
  }
  return undefined;
}

/**
 * SIGINT and SIGTERM end any command at once, with 130 and 143 as a shell reports them: this process's
 * temp files are removed and locks are released (on 'exit'). Nothing mlx publishes is half-written (every
 * object and pointer appears by rename), so stopping between two steps is always safe. This replaces
 * the bare handlers bin/mlx.js installs for the time before main is loaded.
 */
function honourSignals(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.removeAllListeners(signal);
    process.once(signal, () => {
      removeOwnTemps();
      process.exit(code);
    });
  }
}

const SYSTEM_HINTS: Record<string, string> = {
  EACCES: 'check the permissions of that path (mlx needs to write where it checks out and in .mlx/)',
  EPERM: 'the operation is not permitted there: check permissions and the filesystem',
  ENOSPC: 'the disk is full: free space (mlx gc removes cache objects nothing needs)',
  EDQUOT: 'the disk quota is used up: free space (mlx gc removes cache objects nothing needs)',
  ENAMETOOLONG: 'the name is too long for this filesystem (a pointer adds .mlx to it)',
  EROFS: 'the filesystem is read-only',
  EMFILE: 'too many open files: raise the limit (ulimit -n)',
};

function reportError(err: unknown, opts: GlobalOptions): number {
  if (err instanceof CommanderError) {
    // commander has printed its own message (or help/version output)
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof MlxError) {
    // stdout holds one JSON document: a result that says what failed (verify, status) stays the only one.
    if (opts.json && !jsonResultPrinted()) process.stdout.write(`${JSON.stringify({ error: { code: err.code, message: err.message, hint: err.hint, data: err.data } }, null, 2)}\n`);
    process.stderr.write(`mlx: error: ${err.message}${err.hint ? ` (hint: ${err.hint})` : ''}\n`);
    return 1;
  }
  const e = err as NodeJS.ErrnoException;
  // System errors (permissions, full disk, ...) get their one-line message and a hint; anything else is a bug.
  if (e && typeof e.code === 'string' && typeof e.syscall === 'string') {
    const hint = SYSTEM_HINTS[e.code];
    if (opts.json && !jsonResultPrinted()) process.stdout.write(`${JSON.stringify({ error: { code: e.code, message: e.message, hint } }, null, 2)}\n`);
    process.stderr.write(`mlx: error: ${e.message}${hint ? ` (hint: ${hint})` : ''}\n`);
  } else {
    process.stderr.write(`mlx: internal error: ${e?.message ?? String(err)}\n`);
  }
  if (opts.verbose || process.env.MLX_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
  return 1;
}
