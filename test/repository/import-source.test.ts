import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isGitRepositoryDir, isRepositoryUrl, sourcePath } from '../../src/repository/import-source.js';
import { errorCode } from '../helpers/errors.js';
import { gitInit, tempDir } from '../helpers/repo.js';

describe('naming a source repository', () => {
  it('tells urls from local paths', () => {
    for (const url of ['https://example.org/lab.git', 'ssh://git@example.org/lab', 'file:///srv/lab.git', 'git@github.com:lab/data.git', 's3+git://x/y']) expect(isRepositoryUrl(url), url).toBe(true);
    for (const local of ['../lab', '/srv/lab', 'lab', './a@b', 'dir/with:colon', 'C:/lab']) expect(isRepositoryUrl(local), local).toBe(false);
  });

  let dir = '';
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('takes a folder for a repository only at its top: a work tree with .git, or a bare repository', async () => {
    dir = tempDir();
    await gitInit(path.join(dir, 'work'));
    fs.mkdirSync(path.join(dir, 'work', 'sub'));
    fs.mkdirSync(path.join(dir, 'bare', 'objects'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'bare', 'refs'));
    fs.writeFileSync(path.join(dir, 'bare', 'HEAD'), 'ref: refs/heads/main\n');
    expect(isGitRepositoryDir(path.join(dir, 'work'))).toBe(true);
    expect(isGitRepositoryDir(path.join(dir, 'bare'))).toBe(true);
    expect(isGitRepositoryDir(path.join(dir, 'work', 'sub'))).toBe(false);
    expect(isGitRepositoryDir(dir)).toBe(false);
  });
});

describe('source paths', () => {
  it('are read as pointers name them', () => {
    expect(sourcePath('./data/clean/')).toBe('data/clean');
    expect(sourcePath('data/clean.mlx')).toBe('data/clean');
    expect(sourcePath('model.bin')).toBe('model.bin');
  });

  it('are refused when mlx could not write them here', () => {
    for (const bad of ['', '/etc/passwd', '../x', 'a/../../b', '.git/config', '.GIT/hooks', '.mlx/config.yaml', 'a\nb']) expect(errorCode(() => sourcePath(bad)), JSON.stringify(bad)).toBe('EBADPATH');
  });
});
