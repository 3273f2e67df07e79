import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isErrno, lockHeld } from '../util/errors.js';
import { failpoint } from '../util/failpoint.js';
import { uniqueTempName } from '../util/fs.js';
import { acquireLock, isLockHeld, type LockOptions } from './process-lock.js';
import type { Repo } from './repo.js';

/*
 * A cache shared by several repositories has one collector at a time and any number of users.
 *
 *   user (add, checkout, run):  create locks/use/<pid>-…json, then look for locks/gc
 *   gc:                         create locks/gc (O_EXCL), then wait until locks/use holds no live token
 *
 * Each side writes its own file before it looks for the other's, so at least one of them sees the
 * other: a user that finds no gc lock is seen by the gc that comes after, and a user that finds one
 * withdraws and waits. While gc sweeps, no command of any repository sharing the cache is between
 * "this object is already stored" and "its pointer is written". Tokens of killed processes are stale
 * at once (their pid is gone), as with the repository lock.
 */

const held = new Set<string>();
process.once('exit', () => {
  for (const file of held) fs.rmSync(file, { force: true });
});

function gcLockFile(cacheRoot: string): string {
  return path.join(cacheRoot, 'locks', 'gc');
}

function usersDir(cacheRoot: string): string {
  return path.join(cacheRoot, 'locks', 'use');
}

const pause = () => new Promise((r) => setTimeout(r, 50 + Math.random() * 50));
const deadlineOf = (opts: LockOptions) => Date.now() + (opts.timeoutMs ?? Number(process.env.MLX_LOCK_TIMEOUT_MS ?? 120_000));

/** Marks this process as a user of the cache until the returned function is called. */
export async function useCache(cacheRoot: string, opts: LockOptions = {}): Promise<() => void> {
  const deadline = deadlineOf(opts);
  const dir = usersDir(cacheRoot);
  const token = path.join(dir, `${uniqueTempName()}.json`);
  let warned = false;
  for (;;) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(token, JSON.stringify({ pid: process.pid, host: os.hostname(), started: Date.now() }), { flag: 'wx' });
    held.add(token);
    const release = () => {
      held.delete(token);
      fs.rmSync(token, { force: true });
    };
    if (!isLockHeld(gcLockFile(cacheRoot))) return release;
    release();
    if (Date.now() > deadline) {
      throw lockHeld(`the cache ${cacheRoot} is being collected by mlx gc in a repository that shares it`, {
        hint: `wait for it to finish; if no mlx gc is running, remove ${gcLockFile(cacheRoot)}`,
      });
    }
    if (!warned) {
      opts.onWait?.(gcOwner(cacheRoot));
      warned = true;
    }
    await pause();
  }
}

/** Takes the cache's collector lock and waits until no other process uses the cache. */
export async function lockCacheForGc(cacheRoot: string, opts: LockOptions = {}): Promise<() => void> {
  const deadline = deadlineOf(opts);
  const release = await acquireLock(gcLockFile(cacheRoot), opts);
  try {
    for (;;) {
      const busy = liveUsers(cacheRoot);
      if (busy === 0) return release;
      if (Date.now() > deadline) {
        throw lockHeld(`the cache ${cacheRoot} is in use by ${busy} mlx process(es) of repositories that share it`, {
          hint: `wait for them to finish; tokens of processes that no longer run are in ${usersDir(cacheRoot)}`,
        });
      }
      await failpoint('gc.cache-busy');
      await pause();
    }
  } catch (err) {
    release();
    throw err;
  }
}

function gcOwner(cacheRoot: string): { pid: number; host: string; started: number } {
  try {
    return JSON.parse(fs.readFileSync(gcLockFile(cacheRoot), 'utf8'));
  } catch {
    // only to tell the user who holds it: a lock gone or half-written meanwhile names nobody
    return { pid: 0, host: os.hostname(), started: 0 };
  }
}

/** Counts the live user tokens, removing those whose process is gone. */
function liveUsers(cacheRoot: string): number {
  let names: string[];
  try {
    names = fs.readdirSync(usersDir(cacheRoot));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return 0; // no token was ever written
    throw err;
  }
  let live = 0;
  for (const name of names) {
    const file = path.join(usersDir(cacheRoot), name);
    if (isLockHeld(file)) live++;
    else fs.rmSync(file, { force: true });
  }
  return live;
}

/**
 * The lock of a command that writes to the work tree and the cache: the repository's own lock, then
 * a user token of its cache (always in this order, so gc, which takes the same two, cannot deadlock).
 */
export async function lockRepository(repo: Repo, opts: LockOptions = {}): Promise<() => void> {
  const releaseRepo = await acquireLock(repo.layout.lockFile, opts);
  try {
    const releaseCache = await useCache(repo.store.root, opts);
    return () => {
      releaseCache();
      releaseRepo();
    };
  } catch (err) {
    releaseRepo();
    throw err;
  }
}
