import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/repo.js';
import { gitClone, prepareLibraryRepo, useLibrary } from './library-repo.js';

const { name } = createRequire(import.meta.url)('../../package.json') as { name: string };
/** Inside the package, so `import(name)` finds the package itself through its `exports` (dist/, as built). */
const SCRIPT = path.resolve(__dirname, 'fixtures/use-library.mjs');

const made: string[] = [];
const temp = (prefix: string) => made[made.push(tempDir(prefix)) - 1]!;
afterEach(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('the library, imported by the package name', () => {
  it('adds, reads status, runs, lineage and a report, pushes, pulls and checks out a revision; errors are MlxErrors with codes', async () => {
    const dir = temp('mlx-lib-');
    const remote = temp('mlx-lib-remote-');
    await prepareLibraryRepo(dir, remote);
    const clone = path.join(temp('mlx-lib-clone-'), 'b');
    gitClone(dir, clone);

    const out = useLibrary(SCRIPT, name, [dir, clone]);

    expect(out.added).toEqual([{ path: 'extra', kind: 'dir', files: 1 }]);
    expect(out.toGitAdd).toEqual(['extra.mlx', '.gitignore']);
    expect(out.status).toEqual(['data:clean', 'extra:clean', 'model.bin:clean']);
    expect(out.runs).toEqual(['train']);
    expect(out.metrics).toEqual({ 'metrics.json': { acc: 0.7 } });
    expect(out.lineageRuns).toEqual(['train']);
    expect(out.reportData).toEqual(['extra:added']);
    expect(out.errors).toEqual({
      notARepository: { code: 'ENOTGITREPO', message: expect.stringContaining('not'), isMlxError: true },
      unknownRevision: { code: 'EUNKNOWNREV', message: expect.stringContaining('no-such-branch'), isMlxError: true },
      missingPath: { code: 'EPATHNOTFOUND', message: 'nothing-here: no such file or directory', isMlxError: true },
    });
    expect(out.codes).toEqual({ notGit: 'ENOTGITREPO', unknownRev: 'EUNKNOWNREV' });
    expect(out.push.uploadedObjects).toBeGreaterThan(0);
    expect(out.pull).toEqual({ fetched: expect.any(Number), written: ['data:2', 'model.bin:1'] });
    expect(out.pull.fetched).toBeGreaterThan(0);
    expect(out.checkoutRev).toEqual({ commit: 40, unchanged: ['data:2', 'model.bin:1'] });
  });
});

describe('the declarations the package ships (dist/types)', () => {
  it('document every export with TSDoc', () => {
    const dir = path.resolve(__dirname, '../../dist/types');
    const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts'));
    const undocumented = files.flatMap((f) => {
      const lines = fs.readFileSync(path.join(dir, f), 'utf8').split('\n');
      return lines.flatMap((line, i) => (/^export (declare )?(abstract )?(class|function|interface|type|const) |^export (type )?\* from/.test(line) && !lines[i - 1]?.trimEnd().endsWith('*/') ? [`${f}: ${line}`] : []));
    });
    expect(files.sort()).toEqual(['api/errors.d.ts', 'api/index.d.ts', 'api/repository.d.ts', 'api/types.d.ts']);
    expect(undocumented).toEqual([]);
  });
});

