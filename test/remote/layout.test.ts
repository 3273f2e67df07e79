import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirRemote } from '../../src/remote/dir-remote.js';
import { ensureLayout, MARKER_KEY, REMOTE_LAYOUT } from '../../src/remote/layout.js';
import type { Remote } from '../../src/remote/remote.js';
import { E, remoteUnreachable } from '../../src/util/errors.js';
import { rejectionCode } from '../helpers/errors.js';

let tmp: string;
let n = 0;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-layout-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A directory remote whose marker holds `marker` (none when undefined). */
function remoteWith(marker: string | undefined): DirRemote {
  const root = path.join(tmp, `r${n++}`);
  fs.mkdirSync(root);
  if (marker !== undefined) fs.writeFileSync(path.join(root, MARKER_KEY), marker);
  return new DirRemote(root);
}

describe('ensureLayout', () => {
  it('writes the marker on first push and accepts it afterwards', async () => {
    const remote = remoteWith(undefined);
    await ensureLayout(remote, true);
    expect(JSON.parse(fs.readFileSync(path.join(remote.root, MARKER_KEY), 'utf8'))).toEqual({ mlx: 'remote', layout: REMOTE_LAYOUT });
    await ensureLayout(remote, false);
  });

  it.each([['not json {'], ['null'], ['[]'], ['{"mlx":"remote"}']])('calls the marker %j unreadable (E.BAD_CONFIG)', async (marker) => {
    const remote = remoteWith(marker);
    expect(await rejectionCode(ensureLayout(remote, false))).toBe(E.BAD_CONFIG);
    await expect(ensureLayout(remote, false)).rejects.toThrow(`has an unreadable ${MARKER_KEY}`);
  });

  it('refuses a newer layout: the remote was written by a newer mlx', async () => {
    const newer = remoteWith(`{"mlx":"remote","layout":${REMOTE_LAYOUT + 1}}`);
    expect(await rejectionCode(ensureLayout(newer, false))).toBe(E.BAD_CONFIG);
    await expect(ensureLayout(newer, false)).rejects.toThrow(`was written by a newer mlx (layout ${REMOTE_LAYOUT + 1}; this mlx reads layout ${REMOTE_LAYOUT})`);
    // A push neither writes into it nor rewrites its marker.
    await expect(ensureLayout(newer, true)).rejects.toThrow('newer mlx');
    expect(JSON.parse(fs.readFileSync(path.join(newer.root, MARKER_KEY), 'utf8')).layout).toBe(REMOTE_LAYOUT + 1);
  });

  it('reads a layout-1 remote as it is, and raises its marker when it writes (an older mlx then refuses it)', async () => {
    const old = remoteWith('{"mlx":"remote","layout":1}');
    await ensureLayout(old, false);
    expect(JSON.parse(fs.readFileSync(path.join(old.root, MARKER_KEY), 'utf8')).layout).toBe(1);
    // The upgrade step runs before the marker is raised.
    const seen: unknown[] = [];
    await ensureLayout(old, true, async (from) => void seen.push(from, JSON.parse(fs.readFileSync(path.join(old.root, MARKER_KEY), 'utf8')).layout));
    expect(seen).toEqual([1, 1]);
    expect(JSON.parse(fs.readFileSync(path.join(old.root, MARKER_KEY), 'utf8'))).toEqual({ mlx: 'remote', layout: REMOTE_LAYOUT });
    expect(REMOTE_LAYOUT).toBe(3);
  });

  it.each([['0'], ['"1"'], ['1.5']])('refuses the layout %s as another layout', async (layout) => {
    await expect(ensureLayout(remoteWith(`{"mlx":"remote","layout":${layout}}`), false)).rejects.toThrow(`uses layout ${layout}`);
  });

  it('reports a failed marker download with its own code, not as an unreadable marker', async () => {
    const real = remoteWith(`{"mlx":"remote","layout":${REMOTE_LAYOUT}}`);
    // The real directory remote answers head; its download then fails as a network error would.
    const flaky = Object.create(real, {
      get: { value: async () => Promise.reject(remoteUnreachable(`${real.url}: the connection broke`, { url: real.url, key: MARKER_KEY, op: 'get', code: 'ECONNRESET' })) },
    }) as Remote;
    expect(await rejectionCode(ensureLayout(flaky, false))).toBe(E.REMOTE_UNREACHABLE);
  });
});
