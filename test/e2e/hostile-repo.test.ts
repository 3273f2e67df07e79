import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, expectCleanError, mlx, mlxJson, mlxOk, type RunResult } from '../helpers/cli.js';
import { bytes, gitCloneLocal, gitCommitAll, gitInit, snapshot, tempDir, write } from '../helpers/repo.js';
import { startS3ServerProcess, type S3TestServer } from '../helpers/s3-server.js';
import { remoteKinds, type RemoteKind } from '../helpers/remote-kinds.js';
import { loadHasher } from '../../src/hash/blake3.js';
import { hashBytes } from '../../src/hash/hash-file.js';
import { serializePackIndex } from '../../src/formats/pack-index.js';
import { serializeRecipe } from '../../src/formats/recipe.js';
import { indexKey, packKey } from '../../src/remote/layout.js';
import { openRemote } from '../../src/remote/open-remote.js';
import { PackWriter } from '../../src/remote/pack.js';

/**
 * A repository written by someone else: its pointers, manifests, recipes and packs are crafted. mlx
 * must refuse, with one clear line and without writing, whatever would land in `.git`, in `.mlx` or
 * outside the work tree, whatever a size lie would make it accept, and no option may override that.
 */

let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3ServerProcess();
  cliEnv.AWS_ACCESS_KEY_ID = s3.accessKeyId;
  cliEnv.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
  // The test itself writes crafted packs through the real client.
  process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
});
afterAll(async () => {
  await s3.stop();
});

let remoteRoot: string;
const kinds: RemoteKind[] = remoteKinds(() => remoteRoot, () => s3);

let attacker: string;
let victim: string;
beforeEach(() => {
  remoteRoot = tempDir('mlx-hostile-remote-');
  attacker = tempDir('mlx-attacker-');
  victim = tempDir('mlx-victim-');
  fs.rmSync(victim, { recursive: true });
});
afterEach(() => {
  for (const d of [attacker, victim, remoteRoot]) fs.rmSync(d, { recursive: true, force: true });
});

/** A git config that makes the next `git status` run a command: what a pointer into `.git` would plant. */
const EVIL_CONFIG = '[core]\n\trepositoryformatversion = 0\n\tfsmonitor = touch PWNED\n';

const oidIn = (pointerText: string) => /^oid: (b3:[0-9a-f]{64})$/m.exec(pointerText)![1]!;
const pointerText = (p: { path: string; kind: 'file' | 'dir'; oid: string; size: number; files?: number }) =>
  `# mlx pointer — do not edit by hand\nversion: 1\npath: ${JSON.stringify(p.path)}\nkind: ${p.kind}\noid: ${p.oid}\nsize: ${p.size}\n${p.kind === 'dir' ? `files: ${p.files}\n` : ''}`;

interface Pushed {
  /** The pushed `payload/` directory (a git config and a hook): its manifest oid. */
  dirOid: string;
  dirSize: number;
  /** The pushed five-byte file `blob.bin`. */
  blobOid: string;
  /** Crafted manifests pushed as plain files, by name: their oids. */
  manifests: Map<string, string>;
}

/**
 * The attacker's repository: real data pushed to the remote (a directory holding a git config and
 * a hook, a small file, and crafted manifests pushed as plain files), committed and cloned by the
 * victim. The victim's cache is empty, so every command below really fetches from the remote.
 */
async function attackerPushes(kind: RemoteKind, id: string, manifests: (blob: string) => Record<string, string> = () => ({})): Promise<Pushed> {
  await gitInit(attacker);
  mlxOk(attacker, 'init');
  mlxOk(attacker, 'remote', 'add', '-d', 'storage', ...kind.addArgs(id));
  write(attacker, 'payload/config', EVIL_CONFIG);
  write(attacker, 'payload/hooks/post-checkout', '#!/bin/sh\ntouch PWNED\n');
  write(attacker, 'blob.bin', 'evil\n');
  mlxOk(attacker, 'add', 'payload', 'blob.bin');
  const blobOid = oidIn(fs.readFileSync(path.join(attacker, 'blob.bin.mlx'), 'utf8'));
  const crafted = manifests(blobOid);
  const names = Object.keys(crafted);
  for (const name of names) write(attacker, `m/${name}`, crafted[name]!);
  // One add for them all: each file still gets its own pointer.
  if (names.length > 0) mlxOk(attacker, 'add', ...names.map((name) => `m/${name}`));
  const out = new Map(names.map((name) => [name, oidIn(fs.readFileSync(path.join(attacker, `m/${name}.mlx`), 'utf8'))]));
  mlxOk(attacker, 'push');
  const dirPointer = fs.readFileSync(path.join(attacker, 'payload.mlx'), 'utf8');
  await gitCommitAll(attacker, 'data');
  await gitCloneLocal(attacker, victim);
  return { dirOid: oidIn(dirPointer), dirSize: Number(/^size: (\d+)$/m.exec(dirPointer)![1]), blobOid, manifests: out };
}

/** What a crafted pointer must never change in the victim's repository. */
function guarded(): Record<string, string> {
  const git = snapshot(path.join(victim, '.git'));
  const config = fs.readFileSync(path.join(victim, '.mlx/config.yaml'), 'utf8');
  return { ...git, '.mlx/config.yaml': config };
}

function expectRefused(r: RunResult, pattern: RegExp, what: string): void {
  const line = expectCleanError(r);
  expect(line, what).toMatch(pattern);
  expect(line, `${what}: no option may override the path rule`).not.toMatch(/--force|-f\b/);
}

function expectUntouched(before: Record<string, string>, what: string): void {
  expect(guarded(), what).toEqual(before);
  expect(fs.existsSync(path.join(victim, 'PWNED')), what).toBe(false);
  expect(fs.readdirSync(path.join(victim, '.mlx', 'cache', 'objects')).length, `${what}: the cache is still there`).toBeGreaterThanOrEqual(0);
}

/** Crafted pointer locations (their tracked path is the location without `.mlx`) and the rule each breaks. */
const LOCATIONS: [string, RegExp][] = [
  ['sub/.git', /"sub\/\.git", has the component "\.git", which git treats as \.git/],
  ['deep/x/.GIT', /"deep\/x\/\.GIT", has the component "\.GIT", which git treats as \.git/],
  ['.git', /"\.git", has the component "\.git", which git treats as \.git/],
  ['.mlx', /"\.mlx", lies inside "\.mlx", mlx's own directory/],
  ['.MLX', /lies inside "\.MLX", mlx's own directory/],
  ['sub/.git.', /has the component "\.git\.", which git treats as \.git/],
  ['sub/.git ', /has the component "\.git ", which git treats as \.git/],
  ['sub/git~1', /has the component "git~1", which git treats as \.git/],
  ['sub/.git::$INDEX_ALLOCATION', /which git treats as \.git/],
  ['sub/.g\u200cit', /which git treats as \.git/],
  ['sub/evil\nname', /contains a line break, which no \.gitignore entry can match/],
];

describe.each(kinds)('a hostile repository on a $name remote', (kind) => {
  it('a pointer whose tracked path lies in .git or .mlx is refused by every command, --force included', async () => {
    const pushed = await attackerPushes(kind, `loc-${crypto.randomBytes(4).toString('hex')}`);
    for (const [loc, rule] of LOCATIONS) {
      const file = path.join(victim, `${loc}.mlx`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      // The path field agrees with the location, as a careful attacker would write it.
      fs.writeFileSync(file, pointerText({ path: loc, kind: 'dir', oid: pushed.dirOid, size: pushed.dirSize, files: 2 }));
      const before = guarded();
      for (const args of [['pull'], ['pull', '-f'], ['checkout'], ['checkout', '-f'], ['fetch'], ['status'], ['verify']]) {
        expectRefused(mlx(victim, ...args), new RegExp(`refusing pointer file .*${rule.source}`), `${JSON.stringify(loc)}: mlx ${args.join(' ')}`);
        expectUntouched(before, `${JSON.stringify(loc)}: mlx ${args.join(' ')}`);
      }
      fs.rmSync(file);
    }
    // Once the crafted pointers are gone, the repository's honest data pulls as usual.
    mlxOk(victim, 'pull');
    expect(fs.readFileSync(path.join(victim, 'payload/config'), 'utf8')).toBe(EVIL_CONFIG);
    expect(fs.readFileSync(path.join(victim, '.git/config'), 'utf8')).not.toMatch(/fsmonitor/);
  }, 300_000); // seventy commands: about two minutes on a loaded two-core machine

  it('a pointer whose path field names .git is refused, and a committed one is refused by checkout <rev>', async () => {
    const pushed = await attackerPushes(kind, `field-${crypto.randomBytes(4).toString('hex')}`);
    write(victim, 'innocent.mlx', pointerText({ path: '.git', kind: 'dir', oid: pushed.dirOid, size: pushed.dirSize, files: 2 }));
    const before = guarded();
    for (const args of [['pull', '-f'], ['checkout', '-f'], ['status']]) {
      expectRefused(mlx(victim, ...args), /refusing pointer file innocent\.mlx: its path field "\.git" has the component "\.git"/, args.join(' '));
      expectUntouched(before, args.join(' '));
    }
    fs.rmSync(path.join(victim, 'innocent.mlx'));

    // Committed in a revision (git itself checks out `.GIT.mlx` happily: it is an ordinary name).
    write(victim, 'sub/.GIT.mlx', pointerText({ path: 'sub/.GIT', kind: 'dir', oid: pushed.dirOid, size: pushed.dirSize, files: 2 }));
    const crafted = await gitCommitAll(victim, 'crafted');
    fs.rmSync(path.join(victim, 'sub'), { recursive: true });
    const now = guarded();
    for (const args of [['checkout', crafted], ['checkout', '-f', crafted], ['ls', crafted], ['verify', crafted]]) {
      expectRefused(mlx(victim, ...args), /refusing pointer file sub\/\.GIT\.mlx@[0-9a-f]{8}: the path it tracks, "sub\/\.GIT", has the component "\.GIT"/, args.join(' '));
      expectUntouched(now, args.join(' '));
    }
    expect(fs.existsSync(path.join(victim, 'sub'))).toBe(false);
  });

  it('a manifest with an entry in .git (any disguise) is refused before anything is written', async () => {
    const entry = (p: string, blob: string) => `{"v":1,"entries":[{"p":${JSON.stringify(p)},"o":"${blob}","s":5,"x":false}]}`;
    const cases: [string, string][] = [
      ['root', '.git'],
      ['config', '.git/config'],
      ['upper', 'a/.GIT/hooks/post-checkout'],
      ['short', 'x/git~1/config'],
      ['dots', 'x/.git. /config'],
      ['stream', '.git::$INDEX_ALLOCATION/config'],
      ['hfs', 'x/.gi\u200dt/config'],
    ];
    const pushed = await attackerPushes(kind, `manifest-${crypto.randomBytes(4).toString('hex')}`, (blob) => Object.fromEntries(cases.map(([name, p]) => [name, entry(p, blob)])));
    for (const [name, p] of cases) {
      write(victim, 'ds.mlx', pointerText({ path: 'ds', kind: 'dir', oid: pushed.manifests.get(name)!, size: 5, files: 1 }));
      const before = guarded();
      for (const args of [['pull', '-f'], ['checkout', '-f'], ['ls', 'ds']]) {
        const line = expectCleanError(mlx(victim, ...args));
        expect(line, `${p}: ${args.join(' ')}`).toMatch(/refusing directory manifest .*entry path .*which git treats as \.git/);
        expect(line).toContain(JSON.stringify(p));
        expectUntouched(before, `${p}: ${args.join(' ')}`);
      }
      expect(fs.existsSync(path.join(victim, 'ds'))).toBe(false);
    }
  });

  it('sizes are part of identity: a manifest entry or file pointer that lies about its size is damaged', async () => {
    const HUGE = 10 ** 15;
    const pushed = await attackerPushes(kind, `size-${crypto.randomBytes(4).toString('hex')}`, (blob) => ({
      huge: `{"v":1,"entries":[{"p":"a.txt","o":"${blob}","s":${HUGE},"x":false}]}`,
    }));
    write(victim, 'ds.mlx', pointerText({ path: 'ds', kind: 'dir', oid: pushed.manifests.get('huge')!, size: HUGE, files: 1 }));
    for (const args of [['pull'], ['pull', '-f'], ['checkout', '-f']]) {
      expect(expectCleanError(mlx(victim, ...args)), args.join(' ')).toMatch(new RegExp(`the manifest of ds \\(entry "a\\.txt"\\) says ${HUGE} bytes, but object ${pushed.blobOid} has 5: refusing damaged data; nothing was written`));
      expect(fs.existsSync(path.join(victim, 'ds'))).toBe(false);
    }
    for (const args of [['verify'], ['verify', '--remote']]) {
      const r = mlx(victim, ...args);
      expect(expectCleanError(r), args.join(' ')).toMatch(/verify found 1 problem/);
      expect(r.stdout, args.join(' ')).toMatch(new RegExp(`size-mismatch .*the manifest of ds says ${HUGE} bytes for a\\.txt, but its object has 5`));
    }
    // The bytes in the work tree (put there by hand) are the object's: status names the lie.
    write(victim, 'ds/a.txt', 'evil\n');
    expect(expectCleanError(mlx(victim, 'status'))).toMatch(new RegExp(`the manifest of ds says ${HUGE} bytes for a\\.txt, but its object ${pushed.blobOid} has 5`));
    fs.rmSync(path.join(victim, 'ds'), { recursive: true });
    fs.rmSync(path.join(victim, 'ds.mlx'));

    // A file pointer with the wrong size.
    fs.rmSync(path.join(victim, 'payload.mlx'));
    write(victim, 'blob.bin.mlx', pointerText({ path: 'blob.bin', kind: 'file', oid: pushed.blobOid, size: 999 }));
    for (const args of [['pull'], ['checkout', '-f']]) {
      expect(expectCleanError(mlx(victim, ...args)), args.join(' ')).toMatch(new RegExp(`pointer blob\\.bin\\.mlx says 999 bytes, but object ${pushed.blobOid} has 5: refusing damaged data`));
      expect(fs.existsSync(path.join(victim, 'blob.bin'))).toBe(false);
    }
    const r = mlx(victim, 'verify');
    expect(r.stdout).toMatch(/size-mismatch .*pointer blob\.bin\.mlx says size 999, but its data is 5 bytes/);
    // The honest pointer checks out.
    write(victim, 'blob.bin.mlx', pointerText({ path: 'blob.bin', kind: 'file', oid: pushed.blobOid, size: 5 }));
    mlxOk(victim, 'checkout');
    expect(fs.readFileSync(path.join(victim, 'blob.bin'), 'utf8')).toBe('evil\n');
  });

  it('a pack index that lies about the size of its blobs is refused and nothing is written', async () => {
    const id = `pack-${crypto.randomBytes(4).toString('hex')}`;
    await gitInit(attacker);
    mlxOk(attacker, 'init');
    mlxOk(attacker, 'remote', 'add', '-d', 'storage', ...kind.addArgs(id));
    write(attacker, 'small.bin', bytes(3000, 'small'));
    write(attacker, 'big.bin', bytes(6 * 1024 * 1024, 'big'));
    mlxOk(attacker, 'add', 'small.bin', 'big.bin');
    mlxOk(attacker, 'push');
    await gitCommitAll(attacker, 'data');
    await gitCloneLocal(attacker, victim);
    const idxKeys = kind.storedKeys(id).filter((k) => k.endsWith('.idx'));
    const originals = new Map(idxKeys.map((k) => [k, fs.readFileSync(kind.storedFile(id, k), 'utf8')]));

    // Every entry claims a decoded size of 10^15 bytes.
    for (const [k, text] of originals) fs.writeFileSync(kind.storedFile(id, k), text.replace(/"raw":\d+/g, '"raw":1000000000000000'));
    expect(expectCleanError(mlx(victim, 'pull'))).toMatch(/malformed pack index .* differs from its size 1000000000000000/);
    expect(fs.existsSync(path.join(victim, 'small.bin'))).toBe(false);
    expect(fs.existsSync(path.join(victim, 'big.bin'))).toBe(false);

    for (const [k, text] of originals) fs.writeFileSync(kind.storedFile(id, k), text);
    mlxOk(victim, 'pull');
    expect(fs.readFileSync(path.join(victim, 'small.bin'))).toEqual(bytes(3000, 'small'));
    expect(fs.readFileSync(path.join(victim, 'big.bin')).equals(bytes(6 * 1024 * 1024, 'big'))).toBe(true);
  });

  it('a crafted recipe (chunk sizes that lie, or chunks of another file) is refused and nothing is written', async () => {
    const id = `recipe-${crypto.randomBytes(4).toString('hex')}`;
    await gitInit(attacker);
    mlxOk(attacker, 'init');
    mlxOk(attacker, 'remote', 'add', '-d', 'storage', ...kind.addArgs(id));
    write(attacker, 'small.bin', bytes(3000, 'small'));
    mlxOk(attacker, 'add', 'small.bin');
    mlxOk(attacker, 'push');
    const smallOid = oidIn(fs.readFileSync(path.join(attacker, 'small.bin.mlx'), 'utf8'));
    const newHasher = await loadHasher();
    const remote = await openRemote(kind.name === 'dir' ? path.join(remoteRoot, id) : `s3://${s3.bucket}/${id}`, kind.name === 'dir' ? {} : { endpoint: s3.endpoint }, attacker);
    // Recipes for files the remote never had: the victim's pointers name them.
    const fakes: [string, number, string, RegExp][] = [
      ['lying-sizes', 10 ** 15, serializeRecipe([[smallOid, 10 ** 15]]), /has 3000 bytes, its recipe says 1000000000000000/],
      ['other-chunks', 6000, serializeRecipe([[smallOid, 3000], [smallOid, 3000]]), /\(rebuilt from chunks\) does not match its id/],
      ['sum-mismatch', 3000, `{"v":1,"size":3000,"chunks":[["${smallOid}",2999]]}`, /malformed file recipe .*chunk sizes add up to 2999, not the file size 3000/],
    ];
    const writer = new PackWriter(newHasher);
    const fakeOids = new Map<string, string>();
    for (const [name, , recipe] of fakes) {
      const fake = hashBytes(newHasher, Buffer.from(`the file ${name} was never uploaded`));
      fakeOids.set(name, fake);
      writer.add(fake, 'r', Buffer.from(recipe));
    }
    const { pack, index } = writer.finish();
    await remote.put(packKey(index.pack), pack);
    await remote.put(indexKey(index.pack), Buffer.from(serializePackIndex(index)));
    await gitCommitAll(attacker, 'data');
    await gitCloneLocal(attacker, victim);
    for (const [name, size, , refusal] of fakes) {
      write(victim, `${name}.mlx`, pointerText({ path: name, kind: 'file', oid: fakeOids.get(name)!, size }));
      for (const args of [['pull', name], ['pull', '-f', name]]) {
        expect(expectCleanError(mlx(victim, ...args)), `${name}: ${args.join(' ')}`).toMatch(refusal);
        expect(fs.existsSync(path.join(victim, name)), `${name}: ${args.join(' ')}`).toBe(false);
      }
      const tmp = path.join(victim, '.mlx/cache/tmp');
      expect(fs.existsSync(tmp) ? fs.readdirSync(tmp) : [], `${name}: no rebuilt file left behind`).toEqual([]);
      fs.rmSync(path.join(victim, `${name}.mlx`));
    }
    mlxOk(victim, 'pull');
    expect(fs.readFileSync(path.join(victim, 'small.bin'))).toEqual(bytes(3000, 'small'));
  });
});

describe('names: the .gitignore entry mlx writes matches exactly the tracked path', () => {
  let repo: string;
  beforeEach(async () => {
    repo = tempDir('mlx-names-');
    await gitInit(repo);
    mlxOk(repo, 'init');
  });
  afterEach(() => fs.rmSync(repo, { recursive: true, force: true }));

  const git = (...args: string[]) => spawnSync('git', ['-c', 'core.quotePath=false', ...args], { cwd: repo, encoding: 'utf8' });
  const ignored = (rel: string) => git('check-ignore', '-q', '--no-index', rel).status === 0;

  it('escapes glob specials, leading # and !, backslashes and trailing spaces; git ignores the data and nothing else', () => {
    const names = ['w*ld[1]?.bin', '[ab]', '#hash', '!bang', 'trail ', 'two  ', 'back\\slash', 'sp ace', '**', 'a?c'];
    for (const n of names) write(repo, `sub/${n}`, `data of ${n}`);
    // Files the patterns would match were they not escaped and anchored.
    const others = ['sub/a', 'sub/b', 'sub/abc', 'sub/trail', 'sub/two', 'sub/wild1x.bin', 'other/w*ld[1]?.bin', 'other/#hash', 'other/trail ', 'other/**', 'sub/x/**'];
    for (const o of others) write(repo, o, 'not data');
    mlxOk(repo, 'add', ...names.map((n) => `sub/${n}`));
    for (const n of names) expect(ignored(`sub/${n}`), `sub/${n} is ignored`).toBe(true);
    for (const o of others) expect(ignored(o), `${o} is not ignored`).toBe(false);
    const porcelain = git('status', '--porcelain', '--untracked-files=all', '-z').stdout.split('\0').filter(Boolean).map((l) => l.slice(3));
    for (const n of names) {
      expect(porcelain, `sub/${n} stays out of git`).not.toContain(`sub/${n}`);
      expect(porcelain, `its pointer is for git`).toContain(`sub/${n}.mlx`);
    }
    for (const o of others) expect(porcelain, `${o} is visible to git`).toContain(o);
  });

  it('refuses a name with a line break at add time: nothing stored, .gitignore unchanged', () => {
    for (const n of ['evil\nname', 'cr\rname', 'dir\nx']) {
      write(repo, n, 'data');
      const gitignore = fs.existsSync(path.join(repo, '.gitignore')) ? fs.readFileSync(path.join(repo, '.gitignore'), 'utf8') : undefined;
      const files = () => Object.fromEntries(Object.entries(snapshot(path.join(repo, '.mlx'))).filter(([k]) => !k.endsWith('/') && !k.startsWith('cache/repos/')));
      // The cache's registry of repositories using it (cache/repos/) is bookkeeping, not stored data.
      const cache = files();
      expect(expectCleanError(mlx(repo, 'add', n))).toMatch(/contains a line break, which no \.gitignore entry can match/);
      expect(fs.existsSync(path.join(repo, '.gitignore')) ? fs.readFileSync(path.join(repo, '.gitignore'), 'utf8') : undefined).toBe(gitignore);
      expect(files()).toEqual(cache);
      expect(fs.existsSync(path.join(repo, `${n}.mlx`))).toBe(false);
    }
    // Inside a tracked directory such a name is an ordinary entry (only the tracked path is ignored).
    write(repo, 'ds/odd\nname', 'inside');
    mlxOk(repo, 'add', 'ds');
    fs.rmSync(path.join(repo, 'ds'), { recursive: true });
    mlxOk(repo, 'checkout');
    expect(fs.readFileSync(path.join(repo, 'ds/odd\nname'), 'utf8')).toBe('inside');
    expect(ignored('ds/odd\nname')).toBe(true);
  });

  it('refuses to add a path inside .git or .mlx in any disguise, and skips nested git names', () => {
    write(repo, 'sub/.GIT/config', EVIL_CONFIG);
    write(repo, 'sub/git~1', 'x');
    for (const p of ['sub/.GIT', 'sub/.GIT/config', 'sub/git~1', '.MLX/x']) {
      if (p === '.MLX/x') write(repo, p, 'x');
      expect(expectCleanError(mlx(repo, 'add', p)), p).toMatch(/which git treats as \.git|which mlx does not track|mlx's own directory/);
    }
    write(repo, 'data/ok.bin', 'ok');
    write(repo, 'data/.Git/config', EVIL_CONFIG);
    write(repo, 'data/nested/.git', 'gitdir: ../somewhere\n');
    const res = mlxJson(repo, 'add', 'data');
    expect(res.skipped.map((s: { path: string }) => s.path).sort()).toEqual(['data/.Git', 'data/nested/.git']);
    expect(mlxJson(repo, 'ls', 'data').rows.map((r: { path: string }) => r.path)).toEqual(['data/ok.bin']);
  });
});
