import { describe, expect, it } from 'vitest';
import { parsePointer, serializePointer, type Pointer } from '../../src/formats/pointer.js';
import { errorCode } from '../helpers/errors.js';

/* The `source` fields of imported data (spec/pointer.md, "Imported data"). */

const OID = `b3:${'ab'.repeat(32)}`;
const COMMIT = 'c0ffee'.padEnd(40, '1');
const imported: Pointer = {
  version: 1,
  path: 'inputs/clean',
  kind: 'dir',
  oid: OID,
  size: 11,
  files: 2,
  source: { repo: '../lab', rev: 'v1', commit: COMMIT, path: 'data/clean', run: 'prep', run_id: 'r-0123456789abcdef' },
};

describe('pointers of imported data', () => {
  it('write source last, its keys in a fixed order, and read back the same', () => {
    const shuffled = { ...imported, source: { run_id: 'r-0123456789abcdef', path: 'data/clean', run: 'prep', commit: COMMIT, rev: 'v1', repo: '../lab' } };
    const text = serializePointer(shuffled);
    expect(text.split('\n').slice(1, -1)).toEqual([
      'version: 1', 'path: inputs/clean', 'kind: dir', `oid: ${OID}`, 'size: 11', 'files: 2',
      'source:', '  repo: ../lab', '  rev: v1', `  commit: ${COMMIT}`, '  path: data/clean', '  run: prep', '  run_id: r-0123456789abcdef',
    ]);
    expect(parsePointer(text, 'inputs/clean.mlx')).toEqual(imported);
  });

  it('leave out what the source did not give: no revision asked for, no run recorded', () => {
    const file: Pointer = { version: 1, path: 'w.bin', kind: 'file', oid: OID, size: 3, x: true, source: { repo: 'https://example.org/lab.git', commit: COMMIT, path: 'models/w.bin' } };
    const text = serializePointer(file);
    expect(text).not.toMatch(/rev:|run:/);
    expect(parsePointer(text, 'w.bin.mlx')).toEqual(file);
  });

  it('pointers without source read and write exactly as before', () => {
    const old = `# mlx pointer — do not edit by hand\nversion: 1\npath: data/train\nkind: dir\noid: ${OID}\nsize: 10\nfiles: 2\n`;
    const p = parsePointer(old, 'data/train.mlx');
    expect(p.source).toBeUndefined();
    expect(serializePointer(p)).toBe(old);
  });

  it('refuse a damaged or hostile source with EBADPOINTER or EBADPATH', () => {
    const withSource = (source: Record<string, unknown>) => serializePointer(imported).replace(/source:[\s\S]*$/, `source:\n${Object.entries(source).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n')}\n`);
    const good = { repo: '../lab', commit: COMMIT, path: 'data/clean' };
    expect(parsePointer(withSource(good), 'x.mlx').source).toEqual(good);
    const bad: [Record<string, unknown>, string][] = [
      [{ ...good, commit: 'v1' }, 'EBADPOINTER'],
      [{ ...good, commit: COMMIT.toUpperCase() }, 'EBADPOINTER'],
      [{ ...good, path: '../../etc/passwd' }, 'EBADPOINTER'],
      [{ ...good, path: '.git/hooks/post-checkout' }, 'EBADPOINTER'],
      [{ ...good, repo: '' }, 'EBADPOINTER'],
      [{ ...good, rev: 'v1\nx' }, 'EBADPOINTER'],
      [{ ...good, run_id: 'prep' }, 'EBADPOINTER'],
      [{ ...good, extra: 1 }, 'EBADPOINTER'],
      [{ repo: '../lab', path: 'data/clean' }, 'EBADPOINTER'],
    ];
    for (const [source, code] of bad) expect(errorCode(() => parsePointer(withSource(source), 'x.mlx')), JSON.stringify(source)).toBe(code);
  });
});
