import { describe, expect, it } from 'vitest';
import { isLockfileName, kindOfLockfile, parsePackages } from '../../src/formats/package-lockfiles.js';

const packages = (format: Parameters<typeof parsePackages>[0], text: string) => Object.fromEntries(parsePackages(format, text)!);

describe('package lockfile names', () => {
  it('knows lockfiles by name, requirements*.txt anywhere and any .txt inside requirements/', () => {
    for (const name of ['uv.lock', 'poetry.lock', 'Pipfile.lock', 'environment.yml', 'package-lock.json', 'yarn.lock', 'Cargo.lock', 'requirements-dev.txt']) {
      expect(isLockfileName(name, false)).toBe(true);
    }
    expect(isLockfileName('base.txt', false)).toBe(false);
    expect(isLockfileName('base.txt', true)).toBe(true);
    expect(isLockfileName('package.json', false)).toBe(false);
    expect(isLockfileName('notes.md', true)).toBe(false);
  });

  it('maps a lockfile path to the format its packages are read in, or none', () => {
    expect(kindOfLockfile('requirements/base.txt')).toBe('pip');
    expect(kindOfLockfile('env/environment.yaml')).toBe('conda');
    expect(kindOfLockfile('web/package-lock.json')).toBe('npm');
    expect(kindOfLockfile('Pipfile.lock')).toBe('pipfile');
    expect(['uv.lock', 'poetry.lock', 'Cargo.lock'].map(kindOfLockfile)).toEqual(['toml', 'toml', 'toml']);
    expect(['yarn.lock', 'pnpm-lock.yaml', 'conda-lock.yml'].map(kindOfLockfile)).toEqual([undefined, undefined, undefined]);
  });
});

describe('parsePackages', () => {
  it('reads pip requirements and pip freeze: pins, ranges, URLs, extras and markers; skips options and comments', () => {
    const text = [
      '# pinned',
      '-r base.txt',
      '--index-url https://example.org/simple',
      '-e ./local',
      'NumPy==1.26.0',
      'torch===2.1.0 \\',
      '    --hash=sha256:00',
      'Foo_Bar[extra]>=1,<2 ; python_version >= "3.8"',
      'pkg @ https://example.org/pkg.whl',
      'scipy  # latest',
    ].join('\n');
    expect(packages('pip', text)).toEqual({ numpy: '1.26.0', torch: '2.1.0', 'foo-bar': '>=1,<2', pkg: 'https://example.org/pkg.whl', scipy: '' });
  });

  it('reads conda environment files with their pip: sub-list', () => {
    const conda = 'name: ml\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11.7=h955ad1f_0\n  - conda-forge::numpy=1.26.4\n  - pip\n  - pip:\n    - torch==2.1.0\nprefix: /x\n';
    expect(packages('conda', conda)).toEqual({ python: '3.11.7=h955ad1f_0', 'conda-forge::numpy': '1.26.4', pip: '', 'pip:torch': '2.1.0' });
  });

  it('reads package-lock.json (v2/v3 packages, v1 dependencies) and Pipfile.lock', () => {
    const npm = JSON.stringify({ lockfileVersion: 3, packages: { '': { version: '1.0.0' }, 'node_modules/zod': { version: '4.1.0' }, 'node_modules/a/node_modules/zod': { version: '3.0.0' } } });
    expect(packages('npm', npm)).toEqual({ zod: '4.1.0', 'a/node_modules/zod': '3.0.0' });
    expect(packages('npm', JSON.stringify({ lockfileVersion: 1, dependencies: { yaml: { version: '2.3.0' } } }))).toEqual({ yaml: '2.3.0' });
    const pipfile = JSON.stringify({ default: { Requests: { version: '==2.31.0' } }, develop: { pytest: { version: '==8.0.0' } } });
    expect(packages('pipfile', pipfile)).toEqual({ requests: '2.31.0', pytest: '8.0.0' });
  });

  it('reads the [[package]] tables of uv.lock, poetry.lock and Cargo.lock, joining several versions of one name', () => {
    const toml = [
      'version = 1',
      '[[package]]',
      'name = "numpy"',
      'version = "1.26.4"',
      '[package.dependencies]',
      'version = "not this"',
      '[[package]]',
      'name = "serde"',
      'version = "1.0.0"',
      '[[package]]',
      'name = "serde"',
      'version = "0.9.0"',
    ].join('\n');
    expect(packages('toml', toml)).toEqual({ numpy: '1.26.4', serde: '0.9.0, 1.0.0' });
  });

  it('is undefined for text that is not the format its name promises', () => {
    expect(parsePackages('npm', 'not json')).toBeUndefined();
    expect(parsePackages('pipfile', '{')).toBeUndefined();
  });
});
