import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { E } from '../../src/util/errors.js';
import { inSelection, PartialCheckouts } from '../../src/workspace/partial-checkout.js';
import { tempDir } from '../helpers/repo.js';

let dir: string;
let layout: { partialFile: string };
beforeEach(() => {
  dir = tempDir('mlx-partial-');
  layout = { partialFile: path.join(dir, 'state', 'partial.json') };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the partial-checkout record', () => {
  it('is empty when no file exists', () => {
    const p = PartialCheckouts.load(layout);
    expect(p.trackedPaths).toEqual([]);
    expect(p.selectionOf('data')).toBeUndefined();
  });

  it('keeps widened selections sorted, without duplicates or parts inside other parts, across a save', () => {
    const p = PartialCheckouts.load(layout);
    p.widen('data', ['c2/x.bin', 'c1']);
    p.widen('data', ['c1/y.bin', 'c2/x.bin', 'c3.txt']);
    p.save();
    expect(PartialCheckouts.load(layout).selectionOf('data')).toEqual(['c1', 'c2/x.bin', 'c3.txt']);
    expect(fs.readdirSync(path.dirname(layout.partialFile))).toEqual(['partial.json']); // no temp file left
  });

  it('removes its file once every directory is whole', () => {
    const p = PartialCheckouts.load(layout);
    p.widen('data', ['a']);
    p.widen('more', ['b']);
    p.save();
    p.forget('data');
    p.save();
    expect(PartialCheckouts.load(layout).trackedPaths).toEqual(['more']);
    p.forget('more');
    p.save();
    expect(fs.existsSync(layout.partialFile)).toBe(false);
  });

  it.each([
    ['not JSON', '{"version":1,'],
    ['another version', '{"version":2,"dirs":{}}'],
    ['a selection that is not a list of paths', '{"version":1,"dirs":{"data":[1]}}'],
    ['an empty path', '{"version":1,"dirs":{"data":[""]}}'],
  ])('refuses a file with %s, naming it', (_why, text) => {
    fs.mkdirSync(path.dirname(layout.partialFile), { recursive: true });
    fs.writeFileSync(layout.partialFile, text);
    expect(() => PartialCheckouts.load(layout)).toThrow(expect.objectContaining({ code: E.BAD_STATE, message: expect.stringContaining(layout.partialFile) }));
  });
});

describe('inSelection', () => {
  it('takes a part and everything below it, not names that only start the same', () => {
    const sel = ['c1', 'c2/x.bin'];
    expect(['c1', 'c1/a', 'c1/a/b', 'c2/x.bin'].map((p) => inSelection(sel, p))).toEqual([true, true, true, true]);
    expect(['c10', 'c1.txt', 'c2', 'c2/y.bin', 'c2/x.bin.old'].map((p) => inSelection(sel, p))).toEqual([false, false, false, false, false]);
  });
});
