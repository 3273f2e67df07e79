import { describe, expect, it } from 'vitest';
import { conflictedRunNames, mergeRuns, resolveRunConflicts, serializeConflictedRunLock } from '../../src/formats/run-lock-merge.js';
import { parseRunLock, serializeRunLock } from '../../src/formats/run-lock.js';
import { lockWith, sampleRun } from '../helpers/runs.js';

const [r1, r2, r3, r4, r5, r6] = [1, 2, 3, 4, 5, 6].map((n) => sampleRun(n));

describe('mergeRuns', () => {
  it('takes each run from the side that added, changed or removed it, and keeps runs both sides agree on', () => {
    const base = lockWith(['keep', r1!], ['ours-changed', r1!], ['theirs-changed', r1!], ['ours-removed', r1!], ['theirs-removed', r1!], ['both-same', r1!]);
    const ours = lockWith(['keep', r1!], ['ours-changed', r2!], ['theirs-changed', r1!], ['theirs-removed', r1!], ['both-same', r3!], ['ours-added', r4!]);
    const theirs = lockWith(['keep', r1!], ['ours-changed', r1!], ['theirs-changed', r5!], ['ours-removed', r1!], ['both-same', r3!], ['theirs-added', r6!]);
    const { lock, conflicts } = mergeRuns(base, ours, theirs);
    expect(conflicts).toEqual([]);
    expect(lock.runs).toEqual({ keep: r1, 'ours-changed': r2, 'theirs-changed': r5, 'both-same': r3, 'ours-added': r4, 'theirs-added': r6 });
  });

  it('compares runs by value: the same run with keys in another order is no change', () => {
    const { git: g, ...rest } = r1!;
    const reordered = { git: g, ...rest };
    const { lock, conflicts } = mergeRuns(lockWith(['s', r1!]), lockWith(['s', reordered]), lockWith(['s', r1!], ['t', r2!]));
    expect(conflicts).toEqual([]);
    expect(Object.keys(lock.runs)).toEqual(['s', 't']);
  });

  it('is a conflict for exactly the runs both sides changed differently (or one removed while the other changed)', () => {
    const base = lockWith(['s', r1!], ['gone', r1!], ['other', r1!]);
    const ours = lockWith(['s', r2!], ['other', r1!], ['new-o', r4!]);
    const theirs = lockWith(['s', r3!], ['gone', r5!], ['other', r1!], ['new-t', r6!]);
    const { lock, conflicts } = mergeRuns(base, ours, theirs);
    expect(conflicts).toEqual([{ name: 'gone', ours: undefined, theirs: r5 }, { name: 's', ours: r2, theirs: r3 }]);
    expect(Object.keys(lock.runs).sort()).toEqual(['new-o', 'new-t', 'other']);
  });

  it('both sides adding the same name with different runs conflicts', () => {
    expect(mergeRuns(lockWith(), lockWith(['s', r1!]), lockWith(['s', r2!])).conflicts.map((c) => c.name)).toEqual(['s']);
  });
});

describe('conflicted lockfile text', () => {
  const base = lockWith(['a', r1!], ['s', r1!], ['z', r1!]);
  const ours = lockWith(['a', r1!], ['s', r2!], ['z', r1!], ['m1', r4!]);
  const theirs = lockWith(['a', r1!], ['s', r3!], ['z', r1!], ['m2', r5!]);
  const text = serializeConflictedRunLock(mergeRuns(base, ours, theirs));

  it('marks only the conflicting run, keeping every merged run outside the markers', () => {
    expect(conflictedRunNames(text)).toEqual(['s']);
    const outside = text.replace(/^<<<<<<< ours \(run s\)\n[\s\S]*?^>>>>>>> theirs \(run s\)\n/m, '');
    expect(Object.keys(parseRunLock(outside, 'outside').runs)).toEqual(['a', 'm1', 'm2', 'z']);
    // The markers hold each side's version of s and nothing else.
    const inside = /^<<<<<<< ours \(run s\)\n([\s\S]*?)^=======\n([\s\S]*?)^>>>>>>> theirs/m.exec(text)!;
    expect(inside[1]).toContain(r2!.id);
    expect(inside[2]).toContain(r3!.id);
    expect(inside[1]).not.toContain(r4!.id);
  });

  it('parseRunLock names the conflicting run and the resolve command', () => {
    expect(() => parseRunLock(text, 'mlx.lock')).toThrow(/mlx\.lock has unresolved merge conflicts in run s/);
    try {
      parseRunLock(text, 'mlx.lock');
    } catch (err) {
      expect((err as { hint?: string }).hint).toBe('keep one version: mlx resolve s --ours (or --theirs), then git add mlx.lock');
    }
  });

  it('resolves to either side, giving the lockfile a clean merge with that version would have', () => {
    for (const [side, run] of [['ours', r2!], ['theirs', r3!]] as const) {
      const res = resolveRunConflicts(text, side, ['s'], 'mlx.lock');
      expect(res).toMatchObject({ resolved: ['s'], remaining: [], unknown: [] });
      expect(res.text).toBe(serializeRunLock(lockWith(['a', r1!], ['s', run], ['z', r1!], ['m1', r4!], ['m2', r5!])));
    }
  });

  it('resolves runs one at a time, and a side that removed the run removes it', () => {
    const two = serializeConflictedRunLock(mergeRuns(lockWith(['s', r1!], ['t', r1!]), lockWith(['s', r2!]), lockWith(['s', r3!], ['t', r4!])));
    expect(conflictedRunNames(two)).toEqual(['s', 't']);
    const first = resolveRunConflicts(two, 'theirs', ['s'], 'mlx.lock');
    expect(first).toMatchObject({ resolved: ['s'], remaining: ['t'] });
    expect(() => parseRunLock(first.text, 'mlx.lock')).toThrow(/conflicts in run t\b/);
    const second = resolveRunConflicts(first.text, 'ours', [], 'mlx.lock');
    expect(second.remaining).toEqual([]);
    expect(parseRunLock(second.text, 'mlx.lock').runs).toEqual({ s: r3 });
    expect(resolveRunConflicts(two, 'ours', ['nope'], 'mlx.lock').unknown).toEqual(['nope']);
  });

  it('finds the block of a run whose name YAML quotes', () => {
    const t = serializeConflictedRunLock(mergeRuns(lockWith(['1.0', r1!], ['true', r1!]), lockWith(['1.0', r2!], ['true', r1!]), lockWith(['1.0', r3!], ['true', r1!])));
    expect(conflictedRunNames(t)).toEqual(['1.0']);
    expect(parseRunLock(resolveRunConflicts(t, 'theirs', [], 'mlx.lock').text, 'x').runs).toEqual({ '1.0': r3, true: r1 });
  });
});

describe('serialized lockfile', () => {
  it('spells out every run in full, even when two runs share objects in memory (no YAML anchors)', () => {
    const shared = sampleRun(7);
    const text = serializeRunLock(lockWith(['a', shared], ['b', { ...shared, id: 'r-00000000000000b0' }]));
    expect(text).not.toMatch(/[&*]a\d/);
    const back = parseRunLock(text, 'mlx.lock');
    expect(back.runs.b!.params).toEqual(shared.params);
    expect(back.runs.b!.deps).toEqual(shared.deps);
  });
});
