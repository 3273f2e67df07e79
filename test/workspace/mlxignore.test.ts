import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ignoreModule from 'ignore';
import { describe, expect, it } from 'vitest';
import { DEFAULT_IGNORES, ignoredByDefault, IgnoreRules } from '../../src/workspace/mlxignore.js';
import { walkTree } from '../../src/workspace/scan.js';
import { tempDir } from '../helpers/repo.js';

/** Writes `files` (path -> text) under a new folder; a path ending in `/` makes an empty folder. */
function tree(files: Record<string, string>): string {
  const root = tempDir();
  for (const [rel, text] of Object.entries(files)) {
    const abs = path.join(root, rel);
    if (rel.endsWith('/')) fs.mkdirSync(abs, { recursive: true });
    else {
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, text);
    }
  }
  return root;
}

/** The paths a walk of `root/rel` keeps, repository-relative. */
function kept(root: string, rel = ''): string[] {
  const abs = rel === '' ? root : path.join(root, rel);
  const w = walkTree(abs, { root, rel });
  return Array.from({ length: w.count }, (_, i) => (rel === '' ? w.rel(i) : `${rel}/${w.rel(i)}`));
}

/** What git itself leaves untracked-and-not-ignored under the same tree, its ignore files named `.gitignore`. */
function gitKeeps(files: Record<string, string>): string[] {
  const asGit = Object.fromEntries(Object.entries(files).map(([rel, text]) => [rel.replace(/(^|\/)\.mlxignore$/, '$1.gitignore'), text]));
  const root = tree(asGit);
  const git = (...args: string[]) => spawnSync('git', ['-c', 'core.excludesFile=/dev/null', '-c', 'core.ignoreCase=false', ...args], { cwd: root, encoding: 'utf8' });
  expect(git('init', '-q').status).toBe(0);
  const out = git('ls-files', '--others', '--exclude-standard', '-z');
  return out.stdout.split('\0').filter((p) => p !== '').map((p) => p.replace(/(^|\/)\.gitignore$/, '$1.mlxignore'));
}

const sorted = (xs: string[]) => [...xs].sort();

describe('the built-in ignore rules', () => {
  it('the one-name check decides as the gitignore rules it stands for', () => {
    const rules = ignoreModule.default({ ignorecase: false }).add([...DEFAULT_IGNORES]);
    const names = ['__pycache__', '.ipynb_checkpoints', '.DS_Store', '._x', '._', 'Thumbs.db', 'desktop.ini', '.a.swp', '..swp', '.swp', 'a.swp', '.a.swo', '.#lock', '#x#', 'x~', '~', 'a~b', 'pycache', '__pycache__x', '.ipynb', 'thumbs.db', 'Desktop.ini', '.ds_store', 'f0001.bin', '.mlxignore', '.gitignore', '_x', 'data.csv'];
    for (const name of names) {
      for (const isDir of [false, true]) {
        expect([name, isDir, ignoredByDefault(name, isDir)]).toEqual([name, isDir, rules.ignores(isDir ? `${name}/` : name)]);
      }
    }
  });

  it('a walk leaves out editor and OS litter and interpreter caches, at any depth', () => {
    const root = tree({ 'a.py': '', 'pkg/__pycache__/a.cpython-312.pyc': '', 'pkg/.DS_Store': '', 'nb/.ipynb_checkpoints/x.ipynb': '', 'nb/x.ipynb': '', 'b.txt~': '', '.b.txt.swp': '', '__pycache__': 'a file, not a folder' });
    expect(kept(root)).toEqual(['__pycache__', 'a.py', 'nb/x.ipynb']);
  });
});

describe('.mlxignore: gitignore syntax, decided as git decides', () => {
  const cases: Record<string, Record<string, string>> = {
    'negation and comments': { '.mlxignore': '# logs are noise\n*.log\n!keep.log\n', 'a.log': '', 'keep.log': '', 'sub/b.log': '', 'sub/keep.log': '', 'x.txt': '' },
    'anchored and unanchored names': { '.mlxignore': '/top.tmp\nany.tmp\n', 'top.tmp': '', 'sub/top.tmp': '', 'any.tmp': '', 'sub/any.tmp': '' },
    'directory-only rules': { '.mlxignore': 'cache/\n', 'cache/x': '', 'sub/cache/y': '', 'other/cache': 'a file named cache' },
    'double stars': { '.mlxignore': '**/tmp/**\na/**/z.bin\n', 'tmp/x': '', 'q/tmp/y': '', 'a/z.bin': '', 'a/b/c/z.bin': '', 'b/z.bin': '' },
    'escapes': { '.mlxignore': '\\#hash\n\\!bang\nspace\\ \n', '#hash': '', '!bang': '', 'space ': '', 'plain': '' },
    'nested files apply below them and override the root': {
      '.mlxignore': '*.bin\n',
      'sub/.mlxignore': '!*.bin\nlocal.txt\n',
      'a.bin': '',
      'sub/b.bin': '',
      'sub/local.txt': '',
      'local.txt': '',
      'sub/deep/c.bin': '',
    },
    'an excluded folder cannot have files re-included': { '.mlxignore': 'out/\n!out/keep\n', 'out/keep': '', 'out/drop': '', 'in/keep': '' },
    'case matters': { '.mlxignore': 'Big.dat\n', 'Big.dat': '', 'big.dat': '' },
  };
  for (const [name, files] of Object.entries(cases)) {
    it(name, () => {
      expect(sorted(kept(tree(files)))).toEqual(sorted(gitKeeps(files)));
    });
  }

  it('rules of folders above a walked directory apply to it, relative to their own folder', () => {
    const root = tree({ '.mlxignore': 'data/raw/*.tmp\n', 'data/.mlxignore': '/raw/skip.me\n', 'data/raw/a.tmp': '', 'data/raw/skip.me': '', 'data/raw/k.csv': '' });
    expect(kept(root, 'data/raw')).toEqual(['data/raw/k.csv']);
  });

  it('a .mlxignore can re-include what the defaults leave out', () => {
    const root = tree({ '.mlxignore': '!__pycache__/\n', 'p/__pycache__/m.pyc': '', 'p/.DS_Store': '' });
    expect(kept(root)).toEqual(['.mlxignore', 'p/__pycache__/m.pyc']);
  });

  it('whether a path or a folder above it is ignored', () => {
    const root = tree({ '.mlxignore': 'scratch/\n*.tmp\n', 'scratch/a.bin': '', 'b.tmp': '', 'data/c.bin': '' });
    expect(IgnoreRules.ignoresPath(root, 'scratch/a.bin', false)).toBe(true);
    expect(IgnoreRules.ignoresPath(root, 'scratch', true)).toBe(true);
    expect(IgnoreRules.ignoresPath(root, 'b.tmp', false)).toBe(true);
    expect(IgnoreRules.ignoresPath(root, 'data/c.bin', false)).toBe(false);
    expect(IgnoreRules.ignoresPath(root, 'data/__pycache__', true)).toBe(true);
  });
});
