import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import git from 'isomorphic-git';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { loadHasher } from '../../src/hash/blake3.js';
import { ObjectStore } from '../../src/store/object-store.js';

/** A fresh temporary folder, removed by the caller's cleanup. */
export function tempDir(prefix = 'mlx-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Creates a real git repository (via isomorphic-git, so tests need no git binary). */
export async function gitInit(dir: string): Promise<void> {
  await git.init({ fs, dir, defaultBranch: 'main' });
}

/** Stages every non-ignored change (including deletions) and commits; returns the commit id. */
export async function gitCommitAll(dir: string, message: string): Promise<string> {
  const matrix = await git.statusMatrix({ fs, dir });
  for (const [filepath, head, work] of matrix) {
    if (work === 0 && head === 1) await git.remove({ fs, dir, filepath });
    else if (work !== 1 || head !== 1) await git.add({ fs, dir, filepath });
  }
  return git.commit({ fs, dir, message, author: { name: 'Test', email: 'test@example.com' } });
}

/** `git checkout <rev> -- <file>`: writes the file as it was at `rev` (a ref, an oid or `HEAD~N`). */
export async function gitRestoreFile(dir: string, rev: string, filepath: string): Promise<void> {
  const back = /^HEAD~(\d+)$/.exec(rev);
  const oid = back ? (await git.log({ fs, dir, depth: Number(back[1]) + 1 }))[Number(back[1])]!.oid : await git.resolveRef({ fs, dir, ref: rev });
  const { blob } = await git.readBlob({ fs, dir, oid, filepath });
  fs.writeFileSync(path.join(dir, filepath), blob);
}

export async function gitLog(dir: string): Promise<string[]> {
  return (await git.log({ fs, dir })).map((c) => c.oid);
}

/** Deterministic incompressible bytes from a seed, fast enough for many MiB (AES-CTR keystream). */
export function prng(n: number, seed: string): Buffer {
  const key = crypto.createHash('sha256').update(seed).digest().subarray(0, 16);
  return crypto.createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

/** Deterministic pseudo-random bytes, so failures reproduce. */
export function bytes(n: number, seed: string): Buffer {
  const out = Buffer.allocUnsafe(n);
  let off = 0;
  let counter = 0;
  while (off < n) {
    const block = crypto.createHash('sha256').update(`${seed}:${counter++}`).digest();
    off += block.copy(out, off, 0, Math.min(block.length, n - off));
  }
  return out;
}

export function write(root: string, rel: string, data: string | Buffer): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

/** Every file under `dir` with its content hash: compares trees byte for byte. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (abs: string, rel: string) => {
    for (const d of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      const a = path.join(abs, d.name);
      if (d.isDirectory()) {
        const n = fs.readdirSync(a).length;
        if (n === 0) out[`${r}/`] = 'dir';
        walk(a, r);
      } else if (d.isSymbolicLink()) out[r] = `link:${fs.readlinkSync(a)}`;
      else out[r] = crypto.createHash('sha256').update(fs.readFileSync(a)).digest('hex');
    }
  };
  walk(dir, '');
  return out;
}

/** `git clone` of a local repository: copies .git and checks out the branch, as a fresh machine would. */
export async function gitCloneLocal(src: string, dest: string): Promise<void> {
  fs.mkdirSync(dest, { recursive: true });
  fs.cpSync(path.join(src, '.git'), path.join(dest, '.git'), { recursive: true });
  await git.checkout({ fs, dir: dest, ref: 'main', force: true });
}

/**
 * Registers a fresh `git init` + `init(dir)` repository for every test of the calling file and removes
 * it afterwards; read the current one through the returned getter. The repository is built once per
 * file and copied for each test (a copy is what a fresh build gives: `init` writes nothing that names
 * the folder), which spares each test the CLI processes `init` starts.
 */
export function useTempRepo(init: (dir: string) => void): () => string {
  let template = '';
  let dir = '';
  beforeAll(async () => {
    template = tempDir('mlx-template-');
    await gitInit(template);
    init(template);
  });
  afterAll(() => fs.rmSync(template, { recursive: true, force: true }));
  beforeEach(() => {
    dir = tempDir();
    fs.cpSync(template, dir, { recursive: true });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  return () => dir;
}

/** A fresh object store in a temporary folder for every test of the calling file. */
export function useTempStore(cacheSubdir = 'cache'): { dir: () => string; store: () => ObjectStore } {
  let dir = '';
  let store: ObjectStore | undefined;
  beforeEach(async () => {
    dir = tempDir();
    store = new ObjectStore(path.join(dir, cacheSubdir), await loadHasher());
    store.init();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  return { dir: () => dir, store: () => store! };
}
