import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fstatFields, lstatInto, useRawLstat, type LstatFields } from '../../src/util/lstat-fields.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-lstat-'));
fs.writeFileSync(path.join(dir, 'file'), 'twelve bytes');
fs.chmodSync(path.join(dir, 'file'), 0o755);
fs.mkdirSync(path.join(dir, 'sub'));
fs.symlinkSync('file', path.join(dir, 'link'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
afterEach(() => useRawLstat(true));

const expected = (abs: string): LstatFields => {
  const st = fs.lstatSync(abs);
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode, nlink: st.nlink, dev: st.dev };
};

describe.each([
  ['with the fast call allowed', true],
  ['with fs.lstatSync only', false],
])('lstatInto %s', (_, allowed) => {
  it('fills exactly the fields fs.lstatSync reports, for a file, a folder and a symlink (not followed)', () => {
    useRawLstat(allowed);
    const out = {} as LstatFields;
    for (const name of ['file', 'sub', 'link']) {
      const abs = path.join(dir, name);
      expect(lstatInto(abs, out)).toEqual(expected(abs));
    }
    expect(lstatInto(path.join(dir, 'link'), out).mode & fs.constants.S_IFMT).toBe(fs.constants.S_IFLNK);
  });

  it('fails as fs.lstatSync does for a missing path and a path through a file', () => {
    useRawLstat(allowed);
    expect(() => lstatInto(path.join(dir, 'gone'), {} as LstatFields)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => lstatInto(path.join(dir, 'file', 'x'), {} as LstatFields)).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });
});

describe.each([
  ['with the fast call allowed', true],
  ['with fs.fstatSync only', false],
])('fstatFields %s', (_, allowed) => {
  it('gives exactly the fields fs.fstatSync reports for an open file, a new record each time', () => {
    useRawLstat(allowed);
    const fd = fs.openSync(path.join(dir, 'file'), 'r');
    try {
      const st = fs.fstatSync(fd);
      const first = fstatFields(fd);
      expect(first).toEqual({ size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode, nlink: st.nlink, dev: st.dev });
      expect(fstatFields(fd)).not.toBe(first);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('fails as fs.fstatSync does for a closed descriptor', () => {
    useRawLstat(allowed);
    const fd = fs.openSync(path.join(dir, 'file'), 'r');
    fstatFields(fd); // the first call decides which call is used
    fs.closeSync(fd);
    expect(() => fstatFields(fd)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'fstat' }));
  });
});
