import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, finished, mlxJson, mlxOk, type RunResult } from '../helpers/cli.js';
import { Failpoints } from '../helpers/failpoints.js';
import { bytes, tempDir, write } from '../helpers/repo.js';
import { startS3ServerProcess, type S3TestServer } from '../helpers/s3-server.js';
import { commitAll, git, makeTeam, type Team } from '../helpers/team.js';

/*
 * A push (Alice) and `gc --remote --grace 0` (Bob, whose refs do not need Alice's data) run as two real
 * processes; failpoints stop each at a chosen step so that every interleaving that matters happens,
 * not just the likely ones. After each, a fresh clone of Alice's branch must pull every byte.
 */

let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3ServerProcess();
  cliEnv.AWS_ACCESS_KEY_ID = s3.accessKeyId;
  cliEnv.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
});
afterAll(async () => {
  await s3.stop();
});

const FILES = 25;
const fileData = (i: number) => bytes(400 + i, `race-${i}`);

let team: Team;
let fp: Failpoints;
let storeDir: string;
afterEach(() => {
  team?.cleanup();
  fp?.cleanup();
  if (storeDir) fs.rmSync(storeDir, { recursive: true, force: true });
});

function startMlx(cwd: string, env: Record<string, string>, ...args: string[]): Promise<RunResult> {
  return finished(spawn(process.execPath, [BIN, '--json', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...cliEnv, ...env } }));
}

function ok(r: RunResult, what: string): any {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * Alice adds 25 files on branch `data` and pushes them (one pack); Bob clones and runs gc --remote,
 * which marks that pack: nothing Bob's refs name needs it. With `marked` false the pack is left unplanned.
 */
function prepare(remoteArgs: (id: string) => string[], opts: { marked?: boolean } = {}): { alice: string; bob: string } {
  storeDir = tempDir('mlx-race-store-');
  team = makeTeam(remoteArgs(path.basename(storeDir)));
  fp = new Failpoints();
  const alice = team.alice;
  git(alice, 'checkout', '-q', '-b', 'data');
  for (let i = 0; i < FILES; i++) write(alice, `data/f${i}.bin`, fileData(i));
  mlxOk(alice, 'add', 'data');
  mlxOk(alice, 'push');
  commitAll(alice, 'data');
  const bob = team.clone('bob');
  if (opts.marked !== false) expect(mlxJson(bob, 'gc', '--remote', '--grace', '60')).toMatchObject({ marked: 1 });
  return { alice, bob };
}

/** Alice publishes her branch; a fresh clone checks it out and must get every byte. */
function expectAllPullable(alice: string): void {
  git(alice, 'push', '-q', 'origin', 'data');
  const carol = team.clone('carol');
  git(carol, 'checkout', '-q', 'data');
  mlxOk(carol, 'pull');
  for (let i = 0; i < FILES; i++) expect(fs.readFileSync(path.join(carol, `data/f${i}.bin`))).toEqual(fileData(i));
  mlxOk(carol, 'verify', '--remote');
}

const dirRemote = () => [storeDir];

describe('a push racing gc --remote keeps its data (directory remote)', () => {
  it('gc --remote leaves one consolidated index holding every published pack, and a fresh clone pulls through it', async () => {
    const { alice, bob } = prepare(dirRemote, { marked: false });
    for (let i = 0; i < 3; i++) {
      write(alice, `more/m${i}.bin`, bytes(300, `more-${i}`));
      mlxOk(alice, 'add', 'more');
      mlxOk(alice, 'push');
    }
    commitAll(alice, 'more');
    ok(await startMlx(bob, {}, 'gc', '--remote', '--grace', '60'), 'gc');
    // Layout 3: one consolidated index publishes every pack; the pack indexes it took in are retired.
    const consolidated = fs.readdirSync(path.join(storeDir, 'index'));
    expect(consolidated).toHaveLength(1);
    expect(consolidated[0]).toMatch(/\.midx$/);
    const held = JSON.parse(fs.readFileSync(path.join(storeDir, 'index', consolidated[0]!), 'utf8')).indexes.map((i: { pack: string }) => `${i.pack.slice(3)}.pack`);
    const packs = fs.readdirSync(path.join(storeDir, 'packs'));
    expect(packs).toHaveLength(4);
    expect(held.sort()).toEqual(packs.sort());
    expectAllPullable(alice);
  });

  it('sweep read the keep records, then the push recreated the planned pack: the push waits, checks, and sends again', async () => {
    const { alice, bob } = prepare(dirRemote);
    const sweep = startMlx(bob, fp.env({ 'gc.sweep.after-read-keeps': 'pause' }), 'gc', '--remote', '--grace', '0');
    await fp.reached('gc.sweep.after-read-keeps');
    const push = startMlx(alice, fp.env({ 'push.wait-sweep': 'pause' }), 'push');
    await fp.reached('push.wait-sweep'); // the push has published and saw a live sweep that may remove its pack
    fp.release('push.wait-sweep');
    fp.release('gc.sweep.after-read-keeps');
    const swept = ok(await sweep, 'gc');
    expect(swept).toMatchObject({ removedPacks: 1 });
    const pushed = ok(await push, 'push');
    expect(pushed.resentPacks).toBe(1);
    expectAllPullable(alice);
  });

  it('sweep paused after reading plans, push done meanwhile: the sweep sees the keep record and spares the pack', async () => {
    const { alice, bob } = prepare(dirRemote);
    const sweep = startMlx(bob, fp.env({ 'gc.sweep.after-read-plans': 'pause' }), 'gc', '--remote', '--grace', '0');
    await fp.reached('gc.sweep.after-read-plans');
    const pushed = ok(await startMlx(alice, {}, 'push'), 'push');
    expect(pushed).toMatchObject({ uploadedObjects: FILES + 1, resentPacks: 0 });
    fp.release('gc.sweep.after-read-plans');
    expect(ok(await sweep, 'gc')).toMatchObject({ removedPacks: 0, spared: 1 });
    expectAllPullable(alice);
  });

  it('push uploaded the pack, the sweep removed it before the index was published: the push sends it again', async () => {
    const { alice, bob } = prepare(dirRemote);
    const push = startMlx(alice, fp.env({ 'push.after-upload': 'pause' }), 'push');
    await fp.reached('push.after-upload');
    expect(ok(await startMlx(bob, {}, 'gc', '--remote', '--grace', '0'), 'gc')).toMatchObject({ removedPacks: 1 });
    fp.release('push.after-upload');
    expect(ok(await push, 'push').resentPacks).toBe(1);
    expectAllPullable(alice);
  });

  it('sweep about to remove the index while the push published it: the push checks after the sweep and sends again, salted', async () => {
    const { alice, bob } = prepare(dirRemote);
    // The push reads the remote before the sweep writes its removal record, so it does not know of it.
    const push = startMlx(alice, fp.env({ 'push.after-read-plans': 'pause', 'push.after-publish': 'pause' }), 'push');
    await fp.reached('push.after-read-plans');
    const sweep = startMlx(bob, fp.env({ 'gc.sweep.before-delete-index': 'pause' }), 'gc', '--remote', '--grace', '0');
    await fp.reached('gc.sweep.before-delete-index');
    fp.release('push.after-read-plans');
    await fp.reached('push.after-publish');
    fp.release('gc.sweep.before-delete-index');
    expect(ok(await sweep, 'gc')).toMatchObject({ removedPacks: 1 });
    fp.release('push.after-publish');
    expect(ok(await push, 'push').resentPacks).toBe(1);
    expectAllPullable(alice);
  });

  it('sweep removed the index, the push republished it, then the sweep removed the pack: the push finds the pack missing', async () => {
    const { alice, bob } = prepare(dirRemote);
    const push = startMlx(alice, fp.env({ 'push.after-read-plans': 'pause', 'push.before-recheck': 'pause' }), 'push');
    await fp.reached('push.after-read-plans');
    const sweep = startMlx(bob, fp.env({ 'gc.sweep.before-delete-pack': 'pause' }), 'gc', '--remote', '--grace', '0');
    await fp.reached('gc.sweep.before-delete-pack');
    fp.release('push.after-read-plans');
    await fp.reached('push.before-recheck'); // published and wrote its keep record
    fp.release('gc.sweep.before-delete-pack');
    expect(ok(await sweep, 'gc')).toMatchObject({ removedPacks: 1 });
    fp.release('push.before-recheck');
    expect(ok(await push, 'push').resentPacks).toBe(1);
    expectAllPullable(alice);
  });

  it('push wrote its keep record before the sweep began: the sweep spares the pack and the push sends nothing again', async () => {
    const { alice, bob } = prepare(dirRemote);
    const push = startMlx(alice, fp.env({ 'push.before-recheck': 'pause' }), 'push');
    await fp.reached('push.before-recheck');
    expect(ok(await startMlx(bob, {}, 'gc', '--remote', '--grace', '0'), 'gc')).toMatchObject({ removedPacks: 0, spared: 1 });
    fp.release('push.before-recheck');
    expect(ok(await push, 'push').resentPacks).toBe(0);
    expectAllPullable(alice);
  });

  it('push read the plans, then a whole sweep ran before it uploaded: the push\'s upload recreates the pack', async () => {
    const { alice, bob } = prepare(dirRemote);
    const push = startMlx(alice, fp.env({ 'push.after-read-plans': 'pause' }), 'push');
    await fp.reached('push.after-read-plans');
    expect(ok(await startMlx(bob, {}, 'gc', '--remote', '--grace', '0'), 'gc')).toMatchObject({ removedPacks: 1 });
    fp.release('push.after-read-plans');
    // It recreated the removed pack, which the sweep's removal record hides: its check finds it gone,
    // and it sends the objects again in a salted pack of another name.
    expect(ok(await push, 'push')).toMatchObject({ uploadedObjects: 2 * (FILES + 1), resentPacks: 1 });
    // The index it published under the removed name is gone again, so the removal record can be retired.
    const listed = fs.readdirSync(path.join(storeDir, 'index'));
    const removed = listed.filter((f) => f.endsWith('.gone')).flatMap((f) => JSON.parse(fs.readFileSync(path.join(storeDir, 'index', f), 'utf8')).packs);
    expect(removed).toHaveLength(1);
    expect(listed).not.toContain(`${removed[0]}.idx`);
    expectAllPullable(alice);
  });

  it('a sweep killed mid-way: the push waits until its record goes stale, then checks its pack', async () => {
    const { alice, bob } = prepare(dirRemote);
    const killed = await startMlx(bob, fp.env({ 'gc.sweep.after-read-keeps': 'exit' }), 'gc', '--remote', '--grace', '0');
    expect(killed.code).toBe(86); // nothing removed yet; the plan and a live sweep record remain
    const push = startMlx(alice, { ...fp.env({ 'push.wait-sweep': 'pause' }), MLX_GC_LEASE_MS: '1000' }, 'push');
    await fp.reached('push.wait-sweep');
    fp.release('push.wait-sweep');
    // The plan still names the pack, so the push sent it whole again; it returns once the record is stale.
    expect(ok(await push, 'push')).toMatchObject({ uploadedObjects: FILES + 1, resentPacks: 0 });
    expectAllPullable(alice);
  });

  it('a push that relied on a pack already there, which a mark and a sweep then removed: the push sends it again', async () => {
    const { alice, bob } = prepare(dirRemote, { marked: false });
    const push = startMlx(alice, fp.env({ 'push.before-keep': 'pause' }), 'push');
    await fp.reached('push.before-keep'); // everything was already there: it relies on the existing pack
    expect(mlxJson(bob, 'gc', '--remote', '--grace', '0')).toMatchObject({ marked: 1 });
    expect(mlxJson(bob, 'gc', '--remote', '--grace', '0')).toMatchObject({ removedPacks: 1 });
    fp.release('push.before-keep');
    const pushed = ok(await push, 'push');
    expect(pushed).toMatchObject({ alreadyOnRemote: FILES + 1, resentPacks: 1 });
    expectAllPullable(alice);
  });
});

describe('a push racing gc --remote keeps its data (S3)', () => {
  const s3Remote = (id: string) => [`s3://${s3.bucket}/${id}`, '-o', `endpoint=${s3.endpoint}`];

  it('sweep read the keep records, then the push recreated the planned pack: the push waits, checks, and sends again', async () => {
    const { alice, bob } = prepare(s3Remote);
    const sweep = startMlx(bob, fp.env({ 'gc.sweep.after-read-keeps': 'pause' }), 'gc', '--remote', '--grace', '0');
    await fp.reached('gc.sweep.after-read-keeps');
    const push = startMlx(alice, fp.env({ 'push.wait-sweep': 'pause' }), 'push');
    await fp.reached('push.wait-sweep');
    // The sweep deletes the pack the push has just uploaded, and finishes, before the push checks.
    fp.release('gc.sweep.after-read-keeps');
    expect(ok(await sweep, 'gc')).toMatchObject({ removedPacks: 1 });
    fp.release('push.wait-sweep');
    expect(ok(await push, 'push').resentPacks).toBe(1);
    expectAllPullable(alice);
  });

  it('sweep about to remove the pack while the push republished its index: the push finds the pack missing', async () => {
    const { alice, bob } = prepare(s3Remote);
    const push = startMlx(alice, fp.env({ 'push.after-read-plans': 'pause', 'push.before-recheck': 'pause' }), 'push');
    await fp.reached('push.after-read-plans');
    const sweep = startMlx(bob, fp.env({ 'gc.sweep.before-delete-pack': 'pause' }), 'gc', '--remote', '--grace', '0');
    await fp.reached('gc.sweep.before-delete-pack');
    fp.release('push.after-read-plans');
    await fp.reached('push.before-recheck');
    fp.release('gc.sweep.before-delete-pack');
    expect(ok(await sweep, 'gc')).toMatchObject({ removedPacks: 1 });
    fp.release('push.before-recheck');
    expect(ok(await push, 'push').resentPacks).toBe(1);
    expectAllPullable(alice);
  });
});
