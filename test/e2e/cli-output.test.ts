import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import git from 'isomorphic-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mlxJson, mlxOk } from '../helpers/cli.js';
import { gitCloneLocal, gitCommitAll, gitInit, tempDir, write } from '../helpers/repo.js';

// What mlx prints for people, compared whole against stored snapshots (test/e2e/__snapshots__/cli-output/)
// rather than by fragments: a changed word, column or line shows up as a diff of the file. One
// experiment is built once; every test only reads what a step printed. What differs between runs or
// machines is replaced by a named placeholder: temp paths, git commit ids (commits hold run times),
// run ids, the oids of run and environment records, dates, durations and byte counts that include them.
// After a deliberate change of the output: npx vitest run test/e2e/cli-output.test.ts -u, and review the diff.

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/tiny-experiment');
const TRAIN = ['run', '-n', 'train', '-d', 'data/train', '-d', 'train.mjs', '-p', 'params.yaml:lr,epochs', '-o', 'out/model.json', '-M', 'out/metrics.json', '--seed', '42', '--', 'node', 'train.mjs'];

let root: string;
const out: Record<string, string> = {};

/** Replaces what varies between runs with stable, named placeholders. */
class Cleaner {
  private readonly exact: Array<[string, string]> = [];
  /** Hex ids (git commits, run ids, oids) whose every prefix of `min`+ characters stands for `name`. */
  private readonly ids: Array<{ full: string; min: number; name: string }> = [];

  text(s: string, name: string): void {
    this.exact.push([s, name]);
  }

  id(full: string, name: string, min: number): void {
    if (!this.ids.some((i) => i.full === full)) this.ids.push({ full, min, name });
  }

  clean(s: string): string {
    for (const [from, to] of [...this.exact].sort((a, b) => b[0].length - a[0].length)) s = s.split(from).join(to);
    s = s.replace(/\b(r-|k-|b3:)?([0-9a-f]{4,64})\b/g, (all, prefix: string | undefined, hex: string) => {
      const whole = (prefix ?? '') + hex;
      const hit = this.ids.find((i) => whole.length >= i.min && i.full.startsWith(whole));
      return hit ? `<${hit.name}>` : all;
    });
    return s
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
      .replace(/\d{4}-\d\d-\d\d \d\d:\d\d/g, '<time>')
      .replace(/\b\d+(\.\d+)? s\b/g, '<secs> s')
      .replace(/\b\d+(\.\d+)? (B|KiB|MiB|GiB) (sent|received|deduplicated)/g, '<bytes> $3');
  }
}
const cleaner = new Cleaner();

beforeAll(async () => {
  root = tempDir('mlx-cli-output-');
  const dir = path.join(root, 'repo');
  fs.cpSync(FIXTURE, dir, { recursive: true });
  cleaner.text(fs.realpathSync(root), '<tmp>');
  cleaner.text(root, '<tmp>');
  await gitInit(dir);
  const say = (name: string, cwd: string, ...args: string[]) => (out[name] = mlxOk(cwd, ...args).stdout);
  const commit = async (cwd: string, message: string, tag?: string) => {
    const oid = await gitCommitAll(cwd, message);
    cleaner.id(oid, `commit ${message}`, 7);
    if (tag) await git.tag({ fs, dir: cwd, ref: tag });
  };

  say('init', dir, 'init');
  say('add', dir, 'add', 'data/train', 'model.ckpt');
  await commit(dir, 'v1', 'v1');
  say('run', dir, ...TRAIN);
  await commit(dir, 'run 1', 'r1');

  // A new version: one file edited, one deleted, one added, and a param changed.
  fs.appendFileSync(path.join(dir, 'data/train/class0/sample000.csv'), '0.25,0.5,0\n');
  fs.rmSync(path.join(dir, 'data/train/class1/sample000.csv'));
  write(dir, 'data/train/class2/new.csv', 'x1,x2,label\n0.5,0.75,2\n');
  write(dir, 'params.yaml', 'lr: 0.1\nepochs: 20\nseed: 42\n');
  say('status-modified', dir, 'status');
  say('add-again', dir, 'add', 'data/train');
  say('repro', dir, 'repro');
  await commit(dir, 'v2', 'v2');

  say('ls', dir, 'ls');
  say('ls-v1-dir', dir, 'ls', 'v1', 'data/train/class1');
  say('diff', dir, 'diff', 'v1', 'v2');
  say('diff-md', dir, 'diff', 'v1', 'v2', '--md');
  say('diff-none', dir, 'diff');
  say('verify', dir, 'verify');

  say('remote-add', dir, 'remote', 'add', '-d', 'storage', '../remote');
  await commit(dir, 'remote');
  say('status-remote-before', dir, 'status', '--remote');
  say('push', dir, 'push');
  say('push-again', dir, 'push');
  say('status-remote-after', dir, 'status', '--remote');

  const clone = path.join(root, 'clone');
  await gitCloneLocal(dir, clone);
  say('pull', clone, 'pull');
  say('checkout-v1', dir, 'checkout', 'v1');
  say('checkout-back', dir, 'checkout', 'v2');

  for (const e of mlxJson(dir, 'runs').entries as Array<{ run: { id: string; key: string; env: string; record: string; params: Record<string, { lr: number }> } }>) {
    const n = e.run.params['params.yaml']!.lr === 0.05 ? 1 : 2;
    cleaner.id(e.run.id, `run ${n}`, 6);
    cleaner.id(e.run.key, `key of run ${n}`, 6);
    cleaner.id(e.run.env, `env of run ${n}`, 11);
    cleaner.id(e.run.record, `record of run ${n}`, 11);
  }
  say('runs', dir, 'runs');
  say('show', dir, 'show', 'train');
  say('lineage', dir, 'lineage', 'out/model.json');
  say('report', dir, 'report', 'v1', 'v2');
  say('report-md', dir, 'report', 'v1', 'v2', '--md');
  say('report-params', dir, 'report', 'r1', 'v2');
  say('report-params-md', dir, 'report', 'r1', 'v2', '--md');
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('human output, as stored', () => {
  const steps: Array<[string, string]> = [
    ['init', 'mlx init'],
    ['add', 'mlx add of a directory and a file'],
    ['run', 'mlx run'],
    ['status-modified', 'mlx status of a directory with an edit, a deletion and an addition'],
    ['add-again', 'mlx add of a changed directory'],
    ['repro', 'mlx repro of a stale run'],
    ['ls', 'mlx ls'],
    ['ls-v1-dir', 'mlx ls <rev> <dir>'],
    ['diff', 'mlx diff <a> <b>'],
    ['diff-md', 'mlx diff --md'],
    ['diff-none', 'mlx diff with nothing changed'],
    ['verify', 'mlx verify'],
    ['remote-add', 'mlx remote add -d'],
    ['status-remote-before', 'mlx status --remote before a push'],
    ['push', 'mlx push'],
    ['push-again', 'mlx push with nothing to send'],
    ['status-remote-after', 'mlx status --remote after a push'],
    ['pull', 'mlx pull into a fresh clone'],
    ['checkout-v1', 'mlx checkout <rev>'],
    ['checkout-back', 'mlx checkout <rev> back to the latest version'],
    ['runs', 'mlx runs'],
    ['show', 'mlx show'],
    ['lineage', 'mlx lineage'],
    ['report', 'mlx report'],
    ['report-md', 'mlx report --md'],
    ['report-params', 'mlx report of a re-run with changed params and metrics'],
    ['report-params-md', 'mlx report --md of a re-run with changed params and metrics'],
  ];
  it.each(steps)('%s: %s', async (name) => {
    expect(out[name]).toBeDefined();
    await expect(cleaner.clean(out[name]!)).toMatchFileSnapshot(`./__snapshots__/cli-output/${name}.txt`);
  });

  it('cleans only what varies: the data oids stay, so a change in hashing or manifests shows', () => {
    expect(cleaner.clean(out.ls!)).toMatch(/b3:[0-9a-f]{8} /);
    expect(cleaner.clean(out.show!)).toContain('<run 2>');
    expect(cleaner.clean(out.show!)).not.toMatch(/\d{4}-\d\d-\d\d/);
  });
});
