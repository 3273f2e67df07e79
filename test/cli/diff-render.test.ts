import { describe, expect, it } from 'vitest';
import { diffMarkdown, diffText } from '../../src/cli/render/diff.js';
import type { DiffResult } from '../../src/commands/diff.js';

const base: DiffResult = { from: { rev: 'HEAD', commit: 'c'.repeat(40) }, to: { rev: 'workspace' }, changes: [] };

const notAdded: DiffResult = {
  ...base,
  changes: [{ path: 'model.bin', change: 'modified', kind: 'file', oldSize: 1, newSize: 2 }],
  notAdded: [
    { path: 'data', change: 'modified', kind: 'dir', oldSize: 10, newSize: 12, notAdded: true, files: [{ path: 'a.txt', change: 'modified', oldSize: 3, newSize: 5 }] },
  ],
};

describe('diff rendering of work-tree changes not yet added', () => {
  it('lists them after the recorded changes, marked (not added), with their files', () => {
    expect(diffText(notAdded)).toEqual([
      'modified  model.bin  1 B → 2 B (+1 B)',
      'modified (not added) data/  10 B → 12 B (+2 B)',
      '    modified  data/a.txt  3 B → 5 B (+2 B)',
    ]);
  });

  it('marks them in the markdown table and file list', () => {
    const md = diffMarkdown(notAdded);
    expect(md).toContain('| modified (not added) | `data` | 10 B → 12 B (+2 B) | 0 added, 1 modified, 0 deleted |');
    expect(md).toContain('<details><summary><code>data</code>: 1 file(s) changed (not added)</summary>');
  });

  it('says there are no changes only when neither kind has any', () => {
    expect(diffText({ ...base, notAdded: [] })).toEqual(['no changes between HEAD and workspace']);
    expect(diffMarkdown({ ...base, notAdded: [] }).at(-1)).toBe('No tracked data changed.');
  });
});
