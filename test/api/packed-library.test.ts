import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepAddonPrebuild, npmEnv, useAddonPrebuilds } from '../helpers/packed-install.js';
import { tempDir } from '../helpers/repo.js';
import { gitClone, prepareLibraryRepo, useLibrary } from './library-repo.js';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(__dirname, '../..');
const { name } = require('../../package.json') as { name: string };
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

/** A program a TypeScript user would write against the installed declarations; the `@ts-expect-error` lines must fail. */
const CONSUMER = `import { openRepository, MlxError, ErrorCodes, type RunRecord, type StatusResult } from '${name}';
const repo = await openRepository('.');
const status: StatusResult = await repo.status();
export const states: ('clean' | 'modified' | 'missing' | 'unknown' | 'partial')[] = status.paths.map((p) => p.state);
export const commit: string = (await repo.checkout({ rev: 'HEAD' })).commit;
try {
  await repo.add(['data']);
} catch (err) {
  if (err instanceof MlxError && err.code === ErrorCodes.PATH_NOT_FOUND) console.log(err.hint ?? err.message);
}
// @ts-expect-error add takes a list of paths
await repo.add('data');
const run: RunRecord = (await repo.runs()).entries[0]!.run;
// @ts-expect-error a run's seed is a number or null
export const seed: string = run.seed;
`;

let work = '';
let prefix = '';

beforeAll(() => {
  work = tempDir('mlx-packed-');
  prefix = path.join(work, 'prefix');
  fs.mkdirSync(prefix);
  // Packed from the build the suite runs against (dist/ is built before the tests).
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work, ...NPM_FLAGS], { cwd: ROOT, encoding: 'utf8', env: npmEnv() });
  if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  const tarball = path.join(work, (JSON.parse(pack.stdout) as { filename: string }[])[0]!.filename);
  fs.writeFileSync(path.join(prefix, 'package.json'), '{ "private": true, "type": "module" }\n');
  useAddonPrebuilds(prefix);
  const install = spawnSync('npm', ['install', ...NPM_FLAGS, tarball], { cwd: prefix, encoding: 'utf8', env: npmEnv() });
  if (install.status !== 0) throw new Error(`npm install of the tarball failed: ${install.stderr}`);
  keepAddonPrebuild(prefix);
}, 900_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('the library from a packed tarball installed into an empty prefix', () => {
  it('a program in the prefix imports it by name and uses it: add, status, runs, lineage, report, push, pull, checkout, typed errors', async () => {
    const script = path.join(prefix, 'use-library.mjs');
    fs.copyFileSync(path.join(__dirname, 'fixtures/use-library.mjs'), script);
    const dir = path.join(work, 'a');
    fs.mkdirSync(dir);
    await prepareLibraryRepo(dir, path.join(work, 'remote'));
    gitClone(dir, path.join(work, 'b'));

    const out = useLibrary(script, name, [dir, path.join(work, 'b')]);

    expect(out.added).toEqual([{ path: 'extra', kind: 'dir', files: 1 }]);
    expect(out.status).toEqual(['data:clean', 'extra:clean', 'model.bin:clean']);
    expect(out.metrics).toEqual({ 'metrics.json': { acc: 0.7 } });
    expect(out.errors.notARepository).toEqual({ code: 'ENOTGITREPO', message: '/ is not inside a git repository', isMlxError: true });
    expect(out.pull.written).toEqual(['data:2', 'model.bin:1']);
    expect(out.checkoutRev.commit).toBe(40);
  });

  it('ships declarations that type-check a strict TypeScript program, and reject a wrong one', () => {
    const file = path.join(prefix, 'consumer.ts');
    fs.writeFileSync(file, CONSUMER);
    const tsc = require.resolve('typescript/bin/tsc');
    const args = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules/@types'), file];
    const ok = spawnSync(process.execPath, [tsc, ...args], { cwd: prefix, encoding: 'utf8' });
    expect(ok.stdout + ok.stderr).toBe('');
    expect(ok.status).toBe(0);

    // Without the expectations the two wrong lines are errors: the types are real, not `any`.
    fs.writeFileSync(file, CONSUMER.replaceAll('// @ts-expect-error', '//'));
    const bad = spawnSync(process.execPath, [tsc, ...args], { cwd: prefix, encoding: 'utf8' });
    expect(bad.stdout.match(/error TS\d+/g)).toEqual(['error TS2345', 'error TS2322']);
  });

  it('ships python/mlx_client, importable by the machine python3 from the installed package', () => {
    const installed = path.join(prefix, 'node_modules', name);
    expect(fs.readdirSync(path.join(installed, 'python'), { recursive: true, encoding: 'utf8' }).sort()).toEqual(['mlx_client', 'mlx_client/__init__.py']);
    const r = spawnSync('python3', ['-c', 'import mlx_client; print(mlx_client.seed(), mlx_client.seeds())'], {
      cwd: prefix,
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: path.join(installed, 'python'), PYTHONDONTWRITEBYTECODE: '1', MLX_SEED: '5', MLX_SEED_DATA: '7' },
    });
    expect(r.stdout).toBe("5 {'data': 7}\n");
  });
});
