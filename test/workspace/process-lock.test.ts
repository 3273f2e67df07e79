import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/workspace/process-lock.js';
import { MlxError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/repo.js';

let dir: string;
let lockFile: string;
beforeEach(() => {
  dir = tempDir();
  lockFile = path.join(dir, 'state', 'lock');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('workspace lock', () => {
  it('serialises holders: the second waits until the first releases', async () => {
    const order: string[] = [];
    const release1 = await acquireLock(lockFile);
    let waited = false;
    let waiting!: () => void;
    const secondIsWaiting = new Promise<void>((r) => (waiting = r));
    const second = acquireLock(lockFile, {
      onWait: () => {
        waited = true;
        waiting();
      },
    }).then((rel) => {
      order.push('second');
      rel();
    });
    // Released only once the second holder has seen the lock taken, not after some delay.
    await secondIsWaiting;
    order.push('first-releases');
    release1();
    await second;
    expect(order).toEqual(['first-releases', 'second']);
    expect(waited).toBe(true);
    expect(fs.existsSync(lockFile)).toBe(false);
  });

  it('times out with ELOCKED while a live process holds it', async () => {
    const release = await acquireLock(lockFile);
    await expect(acquireLock(lockFile, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'ELOCKED' });
    release();
  });

  it('breaks a lock whose owner process is gone', async () => {
    fs.mkdirSync(path.dirname(lockFile), { recursive: true });
    fs.writeFileSync(lockFile, JSON.stringify({ pid: 4_194_999, host: os.hostname(), started: 1 }));
    const release = await acquireLock(lockFile, { timeoutMs: 1000 });
    expect(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid).toBe(process.pid);
    release();
  });

  it('does not break a lock held by another host', async () => {
    fs.mkdirSync(path.dirname(lockFile), { recursive: true });
    fs.writeFileSync(lockFile, JSON.stringify({ pid: 1, host: 'some-other-host', started: 1 }));
    const err = await acquireLock(lockFile, { timeoutMs: 100 }).catch((e: MlxError) => e);
    expect((err as MlxError).code).toBe('ELOCKED');
  });
});
