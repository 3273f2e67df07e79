import { describe, expect, it } from 'vitest';
import { assertSafeRelPath, compareUtf8, pathRefusal } from '../../src/util/paths.js';
import { gitignorePattern } from '../../src/workspace/gitignore.js';
import { isTrusted } from '../../src/workspace/stat-index.js';

describe('paths', () => {
  it('accepts normal relative paths and rejects escapes', () => {
    expect(assertSafeRelPath('a/b c/ü.txt')).toBe('a/b c/ü.txt');
    for (const bad of ['', '/a', 'a/../b', '..', 'a//b', './a', 'a/', 'C:/x', 'a\0b']) expect(() => assertSafeRelPath(bad)).toThrow();
  });

  it('refuses every name a file system may take for .git, and .mlx at the top of a tracked path', () => {
    const gitLike = ['.git', '.GIT', '.Git', '.git.', '.git ', '.git. .', 'git~1', 'GIT~1', '.git::$INDEX_ALLOCATION', '.git:stream', '.g\u200cit', '\ufeff.git', 'a\\.git', '.git\\x'];
    for (const seg of gitLike) {
      expect(pathRefusal(seg), seg).toMatch(/which git treats as \.git/);
      expect(pathRefusal(`a/${seg}/b`), seg).toMatch(/which git treats as \.git/);
    }
    for (const ok of ['.gitignore', '.gitattributes', 'git', 'x.git', '.github', 'git~2', '.mlx', 'a/.mlx', 'data.mlx', 'a/mlx~1']) expect(pathRefusal(ok), ok).toBeUndefined();
    for (const bad of ['.mlx', '.MLX', '.mlx/config.yaml', '.mlx.', 'MLX~1/x']) expect(pathRefusal(bad, 'tracked'), bad).toMatch(/mlx's own directory/);
    expect(pathRefusal('a/.mlx', 'tracked')).toBeUndefined();
    for (const bad of ['a\nb', 'a\r', 'd/x\ny']) expect(pathRefusal(bad, 'tracked'), bad).toMatch(/line break/);
    expect(pathRefusal('a\nb')).toBeUndefined(); // inside a tracked directory only the tracked path is ignored
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
