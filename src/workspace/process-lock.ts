import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isErrno, lockHeld } from '../util/errors.js';
import { processAlive, removeOrphanedTemps } from '../util/orphans.js';

interface LockOwner { pid: number; host: string; started: number }

export interface LockOptions {
  /** How long to wait for another mlx process, in ms. */
  timeoutMs?: number;
  /** Called once when we start waiting, so the CLI can say why it pauses. */
  onWait?: (owner: LockOwner) => void;
}

const held = new Set<string>();
process.once('exit', () => {
  for (const file of held) fs.rmSync(file, { force: true });
});

/**
 * An exclusive lock on a repository's work-tree state, held by a file created with O_EXCL.
 *
 * Why not an mtime-refreshed lock: mlx's hot loops are synchronous (faster for many small files), so a
 * timer-refreshed lock could look stale while its owner works. Instead the owner's pid and host are
 * recorded: a lock whose process no longer exists on this host is stale at once, so a killed
 * `mlx add` never blocks the next command.
 */
export async function acquireLock(lockFile: string, opts: LockOptions = {}): Promise<() => void> {
  const deadline = Date.now() + (opts.timeoutMs ?? Number(process.env.MLX_LOCK_TIMEOUT_MS ?? 120_000));
  let warned = false;
  for (;;) {
    if (tryCreate(lockFile)) {
      held.add(lockFile);
      return () => {
        held.delete(lockFile);
        fs.rmSync(lockFile, { force: true });
      };
    }
    const owner = readOwner(lockFile);
    if (owner && isStale(owner)) {
      breakStaleLock(lockFile, owner);
      continue;
    }
    if (!owner && unreadableAndOld(lockFile)) {
      // Empty or garbage: a creator killed between create and write, or a damaged file.
      breakStaleLock(lockFile, undefined);
      continue;
    }
    if (Date.now() > deadline) {
      throw lockHeld(`repository is locked by another mlx process${owner ? ` (pid ${owner.pid} on ${owner.host})` : ''}`, {
        hint: `wait for it to finish; if no mlx process is running, remove ${lockFile}`,
        lockFile,
        owner,
      });
    }
    if (!warned && owner) {
      opts.onWait?.(owner);
      warned = true;
    }
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 50));
  }
}

/**
 * Whether a lock file is held by a live process, without taking it: absent or stale (its process is
 * gone, or it is unreadable and old) means free. A lock of another host counts as held.
 */
export function isLockHeld(lockFile: string): boolean {
  if (!fs.existsSync(lockFile)) return false;
  const owner = readOwner(lockFile);
  if (owner) return !isStale(owner);
  return fs.existsSync(lockFile) && !unreadableAndOld(lockFile);
}

function tryCreate(lockFile: string): boolean {
  const owner: LockOwner = { pid: process.pid, host: os.hostname(), started: Date.now() };
  try {
    fs.mkdirSync(path.dirname(lockFile), { recursive: true });
    fs.writeFileSync(lockFile, JSON.stringify(owner), { flag: 'wx' });
    return true;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw err;
  }
}

function readOwner(lockFile: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as LockOwner;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? owner : undefined;
  } catch {
    // vanished, or caught between create and write: look again on the next round
    return undefined;
  }
}

function isStale(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return false; // another host's process: we cannot tell, so wait
  return !processAlive(owner.pid);
}

/** A lock file without a readable owner is stale once older than this (its creator writes at once). */
const UNREADABLE_GRACE_MS = 10_000;

function unreadableAndOld(lockFile: string): boolean {
  try {
    return Date.now() - fs.statSync(lockFile).mtimeMs > UNREADABLE_GRACE_MS;
  } catch {
    return false; // gone meanwhile: nothing stale to break; the next round looks again
  }
}

/**
 * Removes a stale lock. A second lock serialises the breakers, and the owner is re-read under it, so
 * two processes that both saw the same stale lock cannot remove a fresh one.
 */
function breakStaleLock(lockFile: string, seen: LockOwner | undefined): void {
  const breaker = `${lockFile}.break`;
  if (!tryCreate(breaker)) {
    const b = readOwner(breaker);
    if (b && isStale(b)) fs.rmSync(breaker, { force: true });
    return;
  }
  try {
    const now = readOwner(lockFile);
    const same = seen ? now !== undefined && now.pid === seen.pid && now.started === seen.started && now.host === seen.host : now === undefined && unreadableAndOld(lockFile);
    if (same) fs.rmSync(lockFile, { force: true });
  } finally {
    fs.rmSync(breaker, { force: true });
  }
}

/**
 * Removes what killed mlx processes left behind: temp files in `.mlx/tmp` and in the cache (with
 * `everywhere`, also in the cache's fan-out folders: see ObjectStore.sweepTemp). Called by commands
 * that hold the lock, so no other process of this repository is writing there.
 */
export function sweepOrphans(repo: { layout: { tmpDir: string }; store: { sweepTemp(maxAgeMs?: number, opts?: { fanout?: boolean }): number } }, everywhere = false): number {
  return removeOrphanedTemps(repo.layout.tmpDir) + repo.store.sweepTemp(undefined, { fanout: everywhere });
}
