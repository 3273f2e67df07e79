import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import YAML from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toDot, toMermaid } from '../../src/cli/render/lineage.js';
import type { Lineage } from '../../src/run/lineage.js';
import { cliEnv, expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { gitCommitAll, gitInit, tempDir, useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
});

/** Upper-cases every file of data/raw into data/clean. */
const PREP = `import fs from 'node:fs';
fs.mkdirSync('data/clean', { recursive: true });
for (const f of fs.readdirSync('data/raw').sort()) fs.writeFileSync('data/clean/' + f, fs.readFileSync('data/raw/' + f, 'utf8').toUpperCase());
`;
/** "Trains": a deterministic function of lr, the seed and the cleaned data. */
const TRAIN = `import fs from 'node:fs';
const lr = Number(/lr:\\s*([0-9.]+)/.exec(fs.readFileSync('params.yaml', 'utf8'))[1]);
const seed = Number(process.env.MLX_SEED);
const rows = fs.readdirSync('data/clean').length;
fs.writeFileSync('model.json', JSON.stringify({ lr, seed, rows }) + '\\n');
fs.writeFileSync('metrics.json', JSON.stringify({ acc: Math.round((0.5 + lr) * 1000) / 1000, rows }) + '\\n');
`;

const trainArgs = ['run', '-n', 'train', '-d', 'data/clean', '-d', 'train.mjs', '-p', 'params.yaml:lr', '-o', 'model.json', '-M', 'metrics.json', '--seed', '7', '--', 'node', 'train.mjs'];

/**
 * prep (data/raw → data/clean) and train (data/clean + lr → model.json), committed with lr 0.1; then,
 * on `branch` when given, lr 0.2 and train re-run, committed. The re-run also sees another
 * OMP_NUM_THREADS, a variable environment records keep: a known environment change to report.
 */
async function pipeline(root: string, opts: { branch?: string } = {}): Promise<void> {
  cliEnv.OMP_NUM_THREADS = '1';
  try {
    await recordPipeline(root, opts);
  } finally {
    delete cliEnv.OMP_NUM_THREADS;
  }
}

async function recordPipeline(root: string, opts: { branch?: string }): Promise<void> {
  write(root, 'data/raw/a.txt', 'alpha\n');
  write(root, 'data/raw/b.txt', 'beta\n');
  write(root, 'prep.mjs', PREP);
  write(root, 'train.mjs', TRAIN);
  write(root, 'params.yaml', 'lr: 0.1\nepochs: 3\n');
  mlxOk(root, 'add', 'data/raw');
  mlxOk(root, 'run', '-n', 'prep', '-d', 'data/raw', '-d', 'prep.mjs', '-o', 'data/clean', '--', 'node', 'prep.mjs');
  mlxOk(root, ...trainArgs);
  await gitCommitAll(root, 'lr 0.1');
  if (opts.branch) await git.branch({ fs, dir: root, ref: opts.branch, checkout: true });
  write(root, 'params.yaml', 'lr: 0.2\nepochs: 3\n');
  cliEnv.OMP_NUM_THREADS = '2';
  mlxOk(root, ...trainArgs);
  await gitCommitAll(root, 'lr 0.2');
}

// `mlx run` captures the environment (pip, GPUs ...), which takes seconds: the pipeline is recorded
// once, and each test works on its own copy (the cache lives in .mlx/, so the copy is complete).
let template: string;
beforeAll(async () => {
  template = tempDir('mlx-lineage-');
  await gitInit(template);
  mlxOk(template, 'init');
  await pipeline(template);
}, 180_000);
afterAll(() => fs.rmSync(template, { recursive: true, force: true }));

/** The current test's repository becomes a copy of the recorded pipeline. */
function usePipeline(): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(template, dir, { recursive: true });
}

const nodeOf = (g: Lineage, match: (n: Lineage['nodes'][number]) => boolean) => g.nodes.filter(match);
const runNode = (g: Lineage, name: string) => g.nodes.find((n) => n.type === 'run' && n.name === name) as Extract<Lineage['nodes'][number], { type: 'run' }>;
const artifact = (g: Lineage, p: string) => g.nodes.find((n) => n.type === 'artifact' && n.path === p) as Extract<Lineage['nodes'][number], { type: 'artifact' }>;
const hasEdge = (g: Lineage, from: string, to: string, kind: string) => g.edges.some((e) => e.from === from && e.to === to && e.kind === kind);

describe('mlx lineage', () => {
  it('traces model.json back through train and prep to the raw data (text)', async () => {
    usePipeline();
    const text = mlxOk(dir, 'lineage', 'model.json').stdout;
    expect(text.split('\n')[0]).toMatch(/^model\.json {2}b3:[0-9a-f]{8}$/);
    expect(text).toMatch(/run train \(r-[0-9a-f]{16}\)/);
    expect(text).toMatch(/run prep \(r-[0-9a-f]{16}\)/);
    expect(text).toContain('$ node train.mjs');
    expect(text).toContain('seed 7 · lr=0.2');
    expect(text).toMatch(/data\/raw\/ {2}b3:[0-9a-f]{8} {2}\(source: no recorded run produced it\)/);
    // Deeper runs are indented further than the ones that read their outputs.
    const indent = (re: RegExp) => text.split('\n').find((l) => re.test(l))!.search(/run /);
    expect(indent(/run prep/)).toBeGreaterThan(indent(/run train/));
  });

  it('--format json gives the nodes and edges', async () => {
    usePipeline();
    const g = mlxJson<Lineage>(dir, 'lineage', 'model.json', '--format', 'json');
    expect(g.rev).toBe('workspace');
    expect(g.targets).toEqual([{ path: 'model.json', node: artifact(g, 'model.json').id }]);
    const [train, prep] = [runNode(g, 'train'), runNode(g, 'prep')];
    expect(train).toMatchObject({ cmd: ['node', 'train.mjs'], seed: 7, params: { 'params.yaml': { lr: 0.2 } }, recordedIn: null });
    expect(train.env).toMatch(/^b3:/);
    expect(prep.cmd).toEqual(['node', 'prep.mjs']);
    expect(nodeOf(g, (n) => n.type === 'run')).toHaveLength(2);
    expect(g.nodes.filter((n) => n.type === 'artifact').map((n) => n.path).sort()).toEqual(['data/clean', 'data/raw', 'model.json', 'prep.mjs', 'train.mjs']);
    expect(hasEdge(g, artifact(g, 'data/clean').id, train.id, 'input')).toBe(true);
    expect(hasEdge(g, artifact(g, 'train.mjs').id, train.id, 'input')).toBe(true);
    expect(hasEdge(g, train.id, artifact(g, 'model.json').id, 'output')).toBe(true);
    expect(hasEdge(g, prep.id, artifact(g, 'data/clean').id, 'output')).toBe(true);
    expect(hasEdge(g, artifact(g, 'data/raw').id, prep.id, 'input')).toBe(true);
    expect(g.edges).toHaveLength(6);
    expect(artifact(g, 'data/raw').source).toBe(true);
    expect(artifact(g, 'data/clean').source).toBe(false);
    expect(artifact(g, 'model.json').source).toBe(false);
    // The global --json flag gives the same.
    expect(mlxJson<Lineage>(dir, 'lineage', 'model.json').nodes).toEqual(g.nodes);
  });

  it('--format mermaid and dot draw the graph with safe ids', async () => {
    usePipeline();
    const mermaid = mlxOk(dir, 'lineage', 'model.json', '--format', 'mermaid').stdout;
    const lines = mermaid.trimEnd().split('\n');
    expect(lines[0]).toBe('graph LR');
    const nodes = lines.filter((l) => /^ {2}n\d+[[(]/.test(l));
    expect(nodes).toHaveLength(7);
    for (const l of nodes) expect(l).toMatch(/^ {2}n\d+(\(|\[\(|\[)"[^"]*"(\)|\)\]|\])$/);
    expect(mermaid).toMatch(/n\d+\("run train · r-[0-9a-f]{16}<br\/>node train\.mjs<br\/>seed 7 · lr=0\.2"\)/);
    expect(mermaid).toMatch(/n\d+\[\("data\/raw\/<br\/>b3:[0-9a-f]{8}"\)\]/);
    expect(lines.filter((l) => / --> /.test(l))).toHaveLength(6);
    expect(mermaid).toMatch(/classDef run /);

    const dot = mlxOk(dir, 'lineage', 'model.json', '--format', 'dot').stdout;
    expect(dot.startsWith('digraph lineage {\n')).toBe(true);
    expect(dot.trimEnd().endsWith('}')).toBe(true);
    expect(dot.match(/ -> /g)).toHaveLength(6);
  });

  it('--rev shows the lineage as it was at an older commit', async () => {
    usePipeline();
    const now = mlxJson<Lineage>(dir, 'lineage', 'model.json', '--format', 'json');
    const before = mlxJson<Lineage>(dir, 'lineage', 'model.json', '--rev', 'HEAD~1', '--format', 'json');
    expect(before.rev).toBe('HEAD~1');
    expect(before.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(runNode(before, 'train').params).toEqual({ 'params.yaml': { lr: 0.1 } });
    expect(runNode(before, 'train').runId).not.toBe(runNode(now, 'train').runId);
    expect(runNode(before, 'train').recordedIn).toBe(before.commit);
    expect(artifact(before, 'model.json').oid).not.toBe(artifact(now, 'model.json').oid);
    // prep did not change: the same run on both sides.
    expect(runNode(before, 'prep').runId).toBe(runNode(now, 'prep').runId);
    expect(mlxOk(dir, 'lineage', 'model.json', '--rev', 'HEAD~1').stdout).toContain('lr=0.1');
  });

  it('crosses commits: a dep whose producer is no longer in mlx.lock is found by oid in history', async () => {
    usePipeline();
    const lockFile = path.join(dir, 'mlx.lock');
    const lock = YAML.parse(fs.readFileSync(lockFile, 'utf8'));
    delete lock.runs.prep;
    fs.writeFileSync(lockFile, YAML.stringify(lock));
    const g = mlxJson<Lineage>(dir, 'lineage', 'model.json', '--format', 'json');
    const prep = runNode(g, 'prep');
    expect(prep).toBeDefined();
    expect(prep.recordedIn).toMatch(/^[0-9a-f]{40}$/);
    expect(hasEdge(g, artifact(g, 'data/raw').id, prep.id, 'input')).toBe(true);
    expect(mlxOk(dir, 'lineage', 'model.json').stdout).toMatch(/run prep \(r-[0-9a-f]{16}\) {2}recorded in mlx\.lock@[0-9a-f]{8}/);
  });

  it('a path inside a tracked output directory, and a source artifact', async () => {
    usePipeline();
    const inside = mlxJson<Lineage>(dir, 'lineage', 'data/clean/a.txt', '--format', 'json');
    expect(inside.targets).toEqual([{ path: 'data/clean/a.txt', node: artifact(inside, 'data/clean').id, within: 'data/clean' }]);
    expect(runNode(inside, 'prep')).toBeDefined();
    expect(runNode(inside, 'train')).toBeUndefined();
    expect(mlxOk(dir, 'lineage', 'data/clean/a.txt').stdout.split('\n')[0]).toMatch(/^data\/clean\/a\.txt {2}\(inside data\/clean\//);

    const raw = mlxJson<Lineage>(dir, 'lineage', 'data/raw', '--format', 'json');
    expect(raw.nodes).toHaveLength(1);
    expect(raw.edges).toEqual([]);
    expect(artifact(raw, 'data/raw').source).toBe(true);
  });

  it('a file read from inside a directory output leads to the run that wrote the directory', async () => {
    usePipeline();
    write(dir, 'count.mjs', "import fs from 'node:fs'; fs.writeFileSync('count.txt', String(fs.readFileSync('data/clean/a.txt').length));\n");
    mlxOk(dir, 'run', '-n', 'count', '-d', 'data/clean/a.txt', '-d', 'count.mjs', '-o', 'count.txt', '--', 'node', 'count.mjs');
    const g = mlxJson<Lineage>(dir, 'lineage', 'count.txt', '--format', 'json');
    expect(hasEdge(g, artifact(g, 'data/clean').id, artifact(g, 'data/clean/a.txt').id, 'part')).toBe(true);
    expect(hasEdge(g, runNode(g, 'prep').id, artifact(g, 'data/clean').id, 'output')).toBe(true);
    expect(artifact(g, 'data/clean/a.txt').source).toBe(false);
    expect(mlxOk(dir, 'lineage', 'count.txt', '--format', 'mermaid').stdout).toMatch(/n\d+ -\. contains \.-> n\d+/);
    expect(mlxOk(dir, 'lineage', 'count.txt').stdout).toMatch(/└─ inside data\/clean\/ {2}b3:[0-9a-f]{8}\n.*└─ run prep/);
  });

  it('bad input: unknown path, unknown revision, unknown format', async () => {
    usePipeline();
    const missing = mlx(dir, 'lineage', 'nope.bin');
    expect(expectCleanError(missing)).toMatch(/^mlx: error: nope\.bin is not tracked at the work tree and no run in its mlx\.lock reads or writes it/);
    expect(JSON.parse(mlx(dir, '--json', 'lineage', 'nope.bin').stdout).error.code).toBe('EPATHNOTFOUND');

    const rev = mlx(dir, 'lineage', 'model.json', '--rev', 'no-such-branch');
    expect(expectCleanError(rev)).toMatch(/unknown revision "no-such-branch"/);
    expect(JSON.parse(mlx(dir, '--json', 'lineage', 'model.json', '--rev', 'HEAD~9').stdout).error.code).toBe('EUNKNOWNREV');

    expect(expectCleanError(mlx(dir, 'lineage', 'model.json', '--format', 'svg'))).toMatch(/--format svg: expected one of text, mermaid, dot, json/);
    expect(expectCleanError(mlx(dir, 'lineage', '../outside'))).toMatch(/outside the repository/);
  });
});

describe('mlx report', () => {
  it('--md: params table with lr old → new, metrics delta and a mermaid block', async () => {
    usePipeline();
    const md = mlxOk(dir, 'report', 'HEAD~1', '--md').stdout;
    expect(md).toMatch(/^## mlx report: `HEAD~1` → work tree\n/);
    expect(md).toMatch(/\*\*Base\*\* `HEAD~1` at `[0-9a-f]{8}` \(as given\)/);
    expect(md).toContain('### Params\n\n| run | param | base | head | Δ |\n| --- | --- | --- | --- | --- |\n| `train` | `params.yaml` `lr` | 0.1 | 0.2 | +0.1 (+100%) |');
    expect(md).toContain('| `train` | `metrics.json` `acc` | 0.6 | 0.7 | +0.1 (+16.67%) |');
    expect(md).toContain('| `train` | `metrics.json` `rows` | 2 | 2 | ±0 |');
    expect(md).toMatch(/\| `train` \| changed \| `r-[0-9a-f]{16} → r-[0-9a-f]{16}` \| inputs: params, env; outputs: model\.json \|/);
    expect(md).toContain('1 run(s) unchanged.');
    expect(md).toMatch(/### Data\n\n\| change \| path \| size \| files \|\n\| --- \| --- \| --- \| --- \|\n\| modified \| `model\.json` \| /);
    const block = /```mermaid\n([\s\S]*?)\n```/.exec(md);
    expect(block).not.toBeNull();
    expect(block![1]!.startsWith('graph LR\n')).toBe(true);
    expect(block![1]).toContain('run train');
    expect(block![1]).toContain('run prep');
    expect(block![1]).toMatch(/classDef changed /);
    // The re-run saw another OMP_NUM_THREADS.
    expect(md).toMatch(/### Environment\n\n<details><summary><code>train<\/code>: environment <code>b3:[0-9a-f]{8}<\/code> → <code>b3:[0-9a-f]{8}<\/code> \(\d+ field\(s\)\)<\/summary>\n\n\| field \| base \| head \|/);
    expect(md).toContain('| `random_env.OMP_NUM_THREADS` | 1 | 2 |');
  });

  it('text and --json give the same facts', async () => {
    usePipeline();
    const text = mlxOk(dir, 'report', 'HEAD~1').stdout;
    expect(text).toMatch(/^report: HEAD~1 \([0-9a-f]{8}\) → the work tree \(HEAD [0-9a-f]{8}, no uncommitted changes\)/);
    expect(text).toContain('train  params.yaml:lr  0.1 → 0.2  +0.1 (+100%)');
    expect(text).toContain('train  metrics.json:acc  0.6 → 0.7  +0.1 (+16.67%)');
    expect(text).toMatch(/changed {2}train {2}r-/);
    expect(text).toContain('Lineage of the changed outputs');

    const r = mlxJson(dir, 'report', 'HEAD~1');
    expect(r.base).toMatchObject({ rev: 'HEAD~1', how: 'as given' });
    expect(r.params).toEqual([{ run: 'train', file: 'params.yaml', key: 'lr', base: 0.1, head: 0.2, change: 'changed', delta: expect.closeTo(0.1, 10), pct: expect.closeTo(100, 6) }]);
    expect(r.metrics.find((m: any) => m.key === 'acc')).toMatchObject({ base: 0.6, head: 0.7, change: 'changed' });
    expect(r.runs.map((x: any) => [x.name, x.status])).toEqual([
      ['prep', 'unchanged'],
      ['train', 'changed'],
    ]);
    expect(r.data.map((c: any) => [c.path, c.change])).toEqual([['model.json', 'modified']]);
    expect(r.lineage.targets.map((t: any) => t.path)).toEqual(['model.json']);
    expect(r.environment).toHaveLength(1);
    expect(r.environment[0].run).toBe('train');
    expect(r.environment[0].changes).toContainEqual({ path: 'random_env.OMP_NUM_THREADS', from: '1', to: '2' });
    expect(text).toContain('    random_env.OMP_NUM_THREADS: 1 → 2');
  });

  it('defaults to HEAD~1 on main and says so; between two commits when given a head', async () => {
    usePipeline();
    const r = mlxJson(dir, 'report');
    expect(r.base.rev).toBe('HEAD~1');
    expect(r.base.how).toMatch(/default: the parent commit/);
    expect(mlxOk(dir, 'report', '--md').stdout).toMatch(/\*\*Base\*\* `HEAD~1` at `[0-9a-f]{8}` \(default: the parent commit/);
    const between = mlxJson(dir, 'report', 'HEAD~1', 'HEAD');
    expect(between.head).toMatchObject({ rev: 'HEAD', commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(between.params).toHaveLength(1);
    // No change at all: empty sections, no lineage.
    const none = mlxJson(dir, 'report', 'HEAD');
    expect(none.params).toEqual([]);
    expect(none.runs.every((x: any) => x.status === 'unchanged')).toBe(true);
    expect(none.lineage).toBeNull();
    expect(mlxOk(dir, 'report', 'HEAD', '--md').stdout).toContain('No tracked data changed.');
  });

  it('on a feature branch defaults to the branch main', async () => {
    await pipeline(dir, { branch: 'feature' });
    const r = mlxJson(dir, 'report');
    expect(r.base).toMatchObject({ rev: 'main', how: expect.stringMatching(/^default: merge-base with main \([0-9a-f]{8}\), a local branch/) });
    expect(r.params[0]).toMatchObject({ key: 'lr', base: 0.1, head: 0.2 });
  });

  it('new runs are listed; lineage of their outputs is drawn', async () => {
    usePipeline();
    write(dir, 'eval.mjs', "import fs from 'node:fs'; fs.writeFileSync('eval.json', fs.readFileSync('model.json'));\n");
    mlxOk(dir, 'run', '-n', 'eval', '-d', 'model.json', '-d', 'eval.mjs', '-o', 'eval.json', '--', 'node', 'eval.mjs');
    const r = mlxJson(dir, 'report', 'HEAD');
    expect(r.runs.find((x: any) => x.name === 'eval')).toMatchObject({ status: 'added', outputs: ['eval.json'] });
    // eval.json has the same bytes as model.json: the graph still goes eval → train → prep, without a loop.
    const names = r.lineage.nodes.filter((n: any) => n.type === 'run').map((n: any) => n.name).sort();
    expect(names).toEqual(['eval', 'prep', 'train']);
    expect(mlxOk(dir, 'report', 'HEAD', '--md').stdout).toMatch(/\| `eval` \| added \| `r-[0-9a-f]{16}` \| outputs: eval\.json \|/);
  });

  it('bad input: unknown base, a base past the first commit', async () => {
    usePipeline();
    expect(expectCleanError(mlx(dir, 'report', 'nope'))).toMatch(/unknown revision "nope"/);
    expect(JSON.parse(mlx(dir, '--json', 'report', 'HEAD~5').stdout).error.code).toBe('EUNKNOWNREV');
  });

  it('bad input: a repository with one commit has no default base', async () => {
    write(dir, 'a.txt', 'a');
    mlxOk(dir, 'add', 'a.txt');
    await gitCommitAll(dir, 'one');
    expect(expectCleanError(mlx(dir, 'report'))).toMatch(/unknown revision "HEAD~1": it goes back past the first commit/);
  });
});

describe('diagram escaping', () => {
  const g: Pick<Lineage, 'nodes' | 'edges'> = {
    nodes: [
      { id: 'art:we"ird <path>#1`x`@b3:00', type: 'artifact', path: 'we"ird <path>#1`x`', oid: `b3:${'0'.repeat(64)}`, source: true },
      { id: 'run:b3:11', type: 'run', name: 'end', runId: 'r-0123456789abcdef', cmd: ['sh', '-c', 'echo "a\\b" > out'], seed: null, params: {}, env: `b3:${'2'.repeat(64)}`, record: `b3:${'1'.repeat(64)}`, started: '', recordedIn: null },
    ],
    edges: [{ from: 'art:we"ird <path>#1`x`@b3:00', to: 'run:b3:11', kind: 'input' }],
  };

  it('mermaid labels carry no quote, angle bracket or backtick of their own', () => {
    const m = toMermaid(g);
    expect(m).toContain('n0[("we#quot;ird #lt;path#gt;#35;1#96;x#96;<br/>b3:00000000")]');
    expect(m).toContain('n1("run end · r-0123456789abcdef<br/>sh -c echo #quot;a\\b#quot; #gt; out")');
    expect(m).toContain('n0 --> n1');
  });

  it('dot labels are escaped strings', () => {
    const d = toDot(g);
    expect(d).toContain('n0 [label="we\\"ird <path>#1`x`\\nb3:00000000", shape=cylinder');
    expect(d).toContain('label="run end · r-0123456789abcdef\\nsh -c echo \\"a\\\\b\\" > out"');
  });
});
