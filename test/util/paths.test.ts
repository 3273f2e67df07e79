import { describe, expect, it } from 'vitest';
import { assertSafeRelPath, compareUtf8 } from '../../src/util/paths.js';
import { gitignorePattern } from '../../src/workspace/gitignore.js';
import { isTrusted } from '../../src/workspace/stat-index.js';

describe('paths', () => {
  it('accepts normal relative paths and rejects escapes', () => {
    expect(assertSafeRelPath('a/b c/ü.txt')).toBe('a/b c/ü.txt');
    for (const bad of ['', '/a', 'a/../b', '..', 'a//b', './a', 'a/', 'C:/x', 'a\0b']) expect(() => assertSafeRelPath(bad)).toThrow();
  });

  it('compareUtf8 orders like the UTF-8 bytes, including astral characters', () => {
    const samples = ['a', 'B', 'é', '\uffff', '\u{1f600}', 'z', 'a/b', 'a-b', '日本', '\ue000x', ''];
    const byBytes = [...samples].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...samples].sort(compareUtf8)).toEqual(byBytes);
  });

  it('escapes .gitignore patterns so they match one path exactly', () => {
    expect(gitignorePattern('data/train')).toBe('/data/train');
    expect(gitignorePattern('weird*[1]?.bin')).toBe('/weird\\*\\[1\\]\\?.bin');
    expect(gitignorePattern('#notes')).toBe('/\\#notes');
    expect(gitignorePattern('trailing ')).toBe('/trailing\\ ');
  });

  it('treats entries hashed within one timestamp tick as racily clean', () => {
    expect(isTrusted({ mtimeMs: 1000.5, hashedAt: 1100 })).toBe(true);
    expect(isTrusted({ mtimeMs: 1000.5, hashedAt: 1010 })).toBe(false);
    expect(isTrusted({ mtimeMs: 1000, hashedAt: 1500 })).toBe(false);
    expect(isTrusted({ mtimeMs: 1000, hashedAt: 2000 })).toBe(true);
  });
});
