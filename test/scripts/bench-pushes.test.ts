import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { consolidateIndexes, PUSH_POLICY } from '../../src/remote/consolidate.js';
import { DirRemote } from '../../src/remote/dir-remote.js';
import { PackWriter } from '../../src/remote/pack.js';
import { pushObjects } from '../../src/remote/push.js';
import { RemoteIndex } from '../../src/remote/remote-index.js';
import { indexKey, packKey } from '../../src/remote/layout.js';
import { prepareLayout } from '../../src/remote/layout-upgrade.js';
import { serializePackIndex } from '../../src/formats/pack-index.js';
import { ObjectStore } from '../../src/store/object-store.js';
import { loadHasher } from '../../src/hash/blake3.js';
import { hashBytes } from '../../src/hash/hash-file.js';
import { oidHex } from '../../src/hash/oid.js';
// @ts-expect-error a script, not typed
import { morePushes, publishPushes } from '../../scripts/bench-pushes.mjs';
// @ts-expect-error a script, not typed
import { scaleSettings } from '../../scripts/bench-scale.mjs';

/** What the bench scripts drive, from the sources (the scripts bundle the same modules). */
const mlx = { RemoteIndex, ObjectStore, loadHasher, hashBytes, PUSH_POLICY, consolidateIndexes, PackWriter, serializePackIndex, packKey, indexKey, oidHex, pushObjects, prepareLayout };

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-bench-pushes-'));
  dirs.push(d);
  return d;
}

async function keysAfter(generate: (mlx: unknown, remote: DirRemote, dir: string, count: number) => Promise<void>, pushes: number): Promise<string[]> {
  const dir = tempDir();
  const root = path.join(dir, 'remote');
  fs.mkdirSync(root);
  const remote = new DirRemote(root);
  await generate(mlx, remote, dir, pushes);
  return [...(await remote.list('packs/')), ...(await remote.list('index/'))].map((o) => `${o.key} ${o.size}`).sort();
}

describe('bench-pushes', () => {
  it('publishes packs directly into the layout the push code leaves after as many pushes, consolidated indexes included', async () => {
    const pushes = 3 * PUSH_POLICY.minUnconsolidated + 3;
    const viaPush = await keysAfter(morePushes, pushes);
    const direct = await keysAfter(publishPushes, pushes);
    expect(viaPush.filter((k) => k.startsWith('index/')).length).toBeGreaterThan(0);
    expect(viaPush.filter((k) => k.includes('.pack ')).length).toBe(pushes);
    // Layout 3: every pack index went into a consolidated index but the last few pushes' ones.
    expect(viaPush.filter((k) => k.includes('.idx ')).length).toBeLessThan(PUSH_POLICY.minUnconsolidated);
    expect(direct).toEqual(viaPush);
  });
});

describe('bench scale settings', () => {
  it('takes BENCH_FILES=0 (no N-file workload) and the pushes of the many-pushes remote', () => {
    expect(scaleSettings({ BENCH_FILES: '0', BENCH_RESTIC_FILES: '20000' })).toMatchObject({ files: 0, resticFiles: 20_000, pushes: 10_000, pushesS3: 10_000 });
    expect(scaleSettings({ BENCH_FILES: '500', BENCH_PUSHES: '300', BENCH_PUSHES_S3: '0' })).toMatchObject({ files: 500, resticFiles: 500, pushes: 300, pushesS3: 0 });
    expect(() => scaleSettings({ BENCH_FILES: '50' })).toThrow('BENCH_FILES must be 0 (skip the N-file workload) or at least 100');
  });
});
