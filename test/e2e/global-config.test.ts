import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { tempDir, useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
let configHome: string;
beforeEach(() => {
  dir = repo();
  configHome = tempDir('mlx-xdg-');
  cliEnv.XDG_CONFIG_HOME = configHome;
});
afterEach(() => {
  delete cliEnv.XDG_CONFIG_HOME;
  fs.rmSync(configHome, { recursive: true, force: true });
});

const userFile = () => path.join(configHome, 'mlx', 'config.yaml');

describe('the user-wide config (mlx config --global)', () => {
  it('is written to $XDG_CONFIG_HOME/mlx/config.yaml, from anywhere, and applies below the repository', () => {
    const elsewhere = tempDir('mlx-nowhere-');
    mlxOk(elsewhere, 'config', '--global', 'cache.type', 'hardlink,copy');
    mlxOk(elsewhere, 'config', '--global', 'cache.verify', 'true');
    expect(fs.readFileSync(userFile(), 'utf8')).toBe('cache:\n  type: hardlink,copy\n  verify: true\n');
    expect(mlxJson(elsewhere, 'config', '--global', '-l')).toEqual({ 'cache.type': 'hardlink,copy', 'cache.verify': true });
    // Seen in the repository, and used: the checkout links files.
    expect(mlxOk(dir, 'config', 'cache.type').stdout).toBe('hardlink,copy\n');
    write(dir, 'data/a.bin', 'a');
    mlxOk(dir, 'add', 'data');
    expect(fs.statSync(path.join(dir, 'data/a.bin')).nlink).toBe(2);
    // The repository's config wins, then its local config over that.
    mlxOk(dir, 'config', 'cache.type', 'copy');
    expect(mlxJson(dir, 'config', '-l')).toMatchObject({ 'cache.type': 'copy', 'cache.verify': true });
    mlxOk(dir, 'config', '--local', 'cache.type', 'symlink,copy');
    expect(mlxOk(dir, 'config', 'cache.type').stdout).toBe('symlink,copy\n');
    expect(mlxOk(dir, 'config', '--global', 'cache.type').stdout).toBe('hardlink,copy\n');
    mlxOk(dir, 'config', '--global', '--unset', 'cache.verify');
    expect(fs.readFileSync(userFile(), 'utf8')).toBe('cache:\n  type: hardlink,copy\n');
  });

  it('a remote and a default remote set for the user serve every repository', () => {
    const store = tempDir('mlx-user-remote-');
    fs.mkdirSync(path.dirname(userFile()), { recursive: true });
    fs.writeFileSync(userFile(), `core:\n  remote: mine\nremotes:\n  mine:\n    url: ${store}\n`);
    write(dir, 'm.bin', 'weights');
    mlxOk(dir, 'add', 'm.bin');
    mlxOk(dir, 'push');
    expect(mlxJson(dir, 'status', '--remote').remote).toBe('mine');
    expect(expectCleanError(mlx(dir, 'remote', 'rename', 'mine', 'theirs'))).toMatch(/^mlx: error: remote mine is defined in the user-wide config .*, not in this repository/);
  });

  it('bad input gives one line and writes nothing', () => {
    expect(expectCleanError(mlx(dir, 'config', '--global', 'no.such', 'x'))).toMatch(/unknown config key "no\.such"/);
    expect(expectCleanError(mlx(dir, 'config', '--global', '--local', 'cache.type', 'copy'))).toMatch(/--local and --global name different files/);
    expect(expectCleanError(mlx(dir, 'config', '--global', 'cache.type', 'teleport'))).toMatch(/invalid/);
    expect(fs.existsSync(userFile())).toBe(false);
    expect(expectCleanError(mlx(dir, 'config', '--global', 'cache.type'))).toMatch(/cache\.type is not set in /);
    fs.mkdirSync(path.dirname(userFile()), { recursive: true });
    fs.writeFileSync(userFile(), 'cache:\n  colour: blue\n');
    expect(expectCleanError(mlx(dir, 'status'))).toMatch(/config .*mlx\/config\.yaml is invalid/);
  });

  it('a relative XDG_CONFIG_HOME is ignored, as the XDG rules say: ~/.config is used', () => {
    const home = tempDir('mlx-home-');
    cliEnv.XDG_CONFIG_HOME = 'relative/dir';
    cliEnv.HOME = home;
    try {
      mlxOk(dir, 'config', '--global', 'cache.type', 'copy');
      expect(fs.readFileSync(path.join(home, '.config/mlx/config.yaml'), 'utf8')).toBe('cache:\n  type: copy\n');
      expect(fs.existsSync(path.join(dir, 'relative'))).toBe(false);
    } finally {
      delete cliEnv.HOME;
    }
  });
});
