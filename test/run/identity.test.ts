import { describe, expect, it } from 'vitest';
import { loadHasher } from '../../src/hash/blake3.js';
import { keyOf, parseRunLock, serializeRunLock, type Run } from '../../src/formats/run-lock.js';
import { findRunIn, sameInputs, type CatalogEntry } from '../../src/run/catalog.js';
import { idOfRecord, inputKey, newNonce, runRecordBytes } from '../../src/run/identity.js';
import { hashBytes } from '../../src/hash/hash-file.js';
import { E, MlxError } from '../../src/util/errors.js';
import { errorCode } from '../helpers/errors.js';
import { sampleRun } from '../helpers/runs.js';

/** A lockfile as mlx wrote it before runs had an input key (built from commit 57441bc): its id is the input hash. */
const OLD_LOCK = `# mlx run lockfile — written by mlx run; do not edit by hand
version: 1
runs:
  train:
    id: r-28b1e461145368f3
    cmd:
      - sh
      - -c
      - cat in.txt > out.txt
    seed: 3
    params:
      params.yaml:
        lr: 0.1
    deps:
      in.txt:
        kind: file
        oid: b3:0b8b60248fad7ac6dfac221b7e01a8b91c772421a15b387dd1fb2d6a94aee438
        size: 3
    env: b3:8cb237d938e12918d33d592599a9e03d0d1ed3b4b113134d5bd7382326112700
    outs:
      out.txt:
        kind: file
        oid: b3:0b8b60248fad7ac6dfac221b7e01a8b91c772421a15b387dd1fb2d6a94aee438
        size: 3
    metrics: {}
    started: 2026-12-03T12:36:23.802Z
    duration_s: 0.004
    git:
      commit: 19c6099c4169b40bda85f850e87a986cec047736
      dirty: false
    record: b3:0a5c9d3c24297e4f6c4004cb82105814f6f27554d608ac5d87b9c79d6235cae3
`;

const newHasher = await loadHasher();
const inputsOf = (r: Run) => ({ cmd: r.cmd, seed: r.seed, params: r.params, deps: r.deps, env: r.env });

function thrown(fn: () => unknown): MlxError {
  try {
    fn();
  } catch (err) {
    if (err instanceof MlxError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('the input key', () => {
  it('is the same for the same inputs in any key order, and changes with each input', () => {
    const run = sampleRun(1);
    const key = inputKey(newHasher, inputsOf(run));
    expect(key).toMatch(/^k-[0-9a-f]{16}$/);
    expect(inputKey(newHasher, { env: run.env, deps: run.deps, params: run.params, seed: run.seed, cmd: run.cmd })).toBe(key);
    const changed = [
      { ...inputsOf(run), cmd: ['python', 'eval.py'] },
      { ...inputsOf(run), seed: 2 },
      { ...inputsOf(run), params: { 'params.yaml': { lr: 0.2 } } },
      { ...inputsOf(run), deps: { 'data/train': { kind: 'dir' as const, oid: `b3:${'f'.repeat(64)}`, size: 10 } } },
      { ...inputsOf(run), env: `b3:${'e'.repeat(64)}` },
      { ...inputsOf(run), seeds: { data: 7 } },
      { ...inputsOf(run), overrides: ['params.yaml:lr=0.2'] },
    ];
    expect(new Set(changed.map((i) => inputKey(newHasher, i))).size).toBe(changed.length);
    for (const i of changed) expect(inputKey(newHasher, i)).not.toBe(key);
  });

  it('of a run in an old lockfile is its id, and equals the key a new run with those inputs gets', () => {
    const old = parseRunLock(OLD_LOCK, 'mlx.lock').runs.train!;
    expect(old.key).toBe(`k-${old.id.slice(2)}`);
    expect(inputKey(newHasher, inputsOf(old))).toBe(old.key);
    expect(keyOf({ id: old.id })).toBe(old.key);
    // No named seeds and no overrides count as none at all: an old run's key does not move.
    expect(inputKey(newHasher, { ...inputsOf(old), seeds: {}, overrides: [] })).toBe(old.key);
  });
});

describe('the run id', () => {
  it('is taken from the record, whose nonce makes two otherwise equal executions differ', () => {
    const { id: _id, record: _record, ...run } = sampleRun(1);
    const a = hashBytes(newHasher, runRecordBytes('train', run, newNonce()));
    const b = hashBytes(newHasher, runRecordBytes('train', run, newNonce()));
    expect(a).not.toBe(b);
    expect(idOfRecord(a)).toBe(`r-${a.slice(3, 19)}`);
    expect(idOfRecord(a)).not.toBe(idOfRecord(b));
    // Same nonce, same everything: the same record (content-addressed), so the id cannot drift.
    expect(runRecordBytes('train', run, 'ab')).toEqual(runRecordBytes('train', run, 'ab'));
    expect(runRecordBytes('train', run, 'ab')).not.toEqual(runRecordBytes('eval', run, 'ab'));
  });
});

describe('lockfiles with and without keys', () => {
  it('an old lockfile parses, gets keys from its ids, and is written back byte for byte', () => {
    const lock = parseRunLock(OLD_LOCK, 'mlx.lock');
    expect(serializeRunLock(lock)).toBe(OLD_LOCK);
  });

  it('a new run keeps its key, written after the id', () => {
    const lock = { version: 1 as const, runs: { train: sampleRun(1) } };
    const text = serializeRunLock(lock);
    expect(text).toMatch(/\n {4}id: r-0{15}1\n {4}key: k-e{15}1\n {4}cmd:/);
    expect(parseRunLock(text, 'mlx.lock')).toEqual(lock);
  });

  it('named seeds, overrides and checkpoint headers are written in schema order and read back; a bad seed name is EBADRUNLOCK', () => {
    const run = sampleRun(1, {
      seeds: { data: 7, init: 3 },
      overrides: ['params.yaml:lr=0.2'],
      formats: { 'model.safetensors': { format: 'safetensors', size: 100, parameters: 4, tensor_count: 1, dtypes: { F32: 4 }, tensors: { w: 'F32 [2, 2]' } } },
    });
    const text = serializeRunLock({ version: 1, runs: { train: run } });
    expect(text).toMatch(/\n {4}seed: \S+\n {4}seeds:\n {6}data: 7\n {6}init: 3\n {4}params:[\s\S]*\n {4}overrides:\n {6}- params\.yaml:lr=0\.2\n {4}deps:/);
    expect(text).toMatch(/\n {4}formats:\n {6}model\.safetensors:\n {8}format: safetensors\n/);
    expect(parseRunLock(text, 'mlx.lock').runs.train).toEqual(run);
    const err = thrown(() => parseRunLock(text.replace('      data: 7', '      Data: 7'), 'mlx.lock'));
    expect(err.code).toBe(E.BAD_RUNLOCK);
    expect(err.message).toMatch(/runs\.train\.seeds/);
  });

  it('a malformed key is EBADRUNLOCK naming the field', () => {
    const text = serializeRunLock({ version: 1, runs: { train: sampleRun(1) } }).replace(/key: k-\w+/, 'key: r-0123');
    const err = thrown(() => parseRunLock(text, 'mlx.lock'));
    expect(err.code).toBe(E.BAD_RUNLOCK);
    expect(err.message).toMatch(/runs\.train\.key/);
  });
});

describe('finding a run', () => {
  const entry = (name: string, run: Run): CatalogEntry => ({ name, run, commit: null, branches: [], refs: [] });
  const hex = (s: string) => s.padEnd(16, '0');
  // Newest first, as the catalog lists them.
  const entries = [
    entry('train', sampleRun(3, { id: `r-${hex('abcd1')}`, key: 'k-1111111111111111', record: `b3:${'3'.repeat(64)}` })),
    entry('train', sampleRun(2, { id: `r-${hex('abcd2')}`, key: 'k-1111111111111111', record: `b3:${'2'.repeat(64)}` })),
    entry('eval', sampleRun(1, { id: `r-${hex('ef01')}`, key: 'k-2222222222222222', record: `b3:${'1'.repeat(64)}` })),
  ];

  it('by full id, unique prefix, record oid or prefix, and by name (the newest)', () => {
    expect(findRunIn(entries, `r-${hex('abcd2')}`)).toBe(entries[1]);
    expect(findRunIn(entries, 'r-abcd1')).toBe(entries[0]);
    expect(findRunIn(entries, 'r-ef01')).toBe(entries[2]);
    expect(findRunIn(entries, `b3:${'2'.repeat(10)}`)).toBe(entries[1]);
    expect(findRunIn(entries, 'train')).toBe(entries[0]);
  });

  it('an ambiguous prefix is an error listing the candidates; an unknown or too short one says so', () => {
    const err = thrown(() => findRunIn(entries, 'r-abcd'));
    expect(err.code).toBe(E.UNKNOWN_RUN);
    expect(err.message).toContain(`r-abcd matches 2 runs: r-${hex('abcd1')} (train, 2026-01-03 00:00), r-${hex('abcd2')} (train, 2026-01-02 00:00)`);
    expect(err.hint).toBe('give more of the id');
    expect(errorCode(() => findRunIn(entries, 'r-9999'))).toBe(E.UNKNOWN_RUN);
    expect(thrown(() => findRunIn(entries, 'r-ab')).hint).toMatch(/4 to 16 hex digits/);
  });

  it('two executions an old lockfile recorded under one id are told apart by their record', () => {
    const old = [entry('gen', sampleRun(2, { id: `r-${hex('77')}`, key: undefined })), entry('gen', sampleRun(1, { id: `r-${hex('77')}`, key: undefined }))];
    const err = thrown(() => findRunIn(old, `r-${hex('77')}`));
    expect(err.message).toContain(`matches 2 runs: ${old[0]!.run.record.slice(0, 15)} (gen,`);
    expect(err.hint).toMatch(/record oid/);
    expect(findRunIn(old, old[1]!.run.record)).toBe(old[1]);
  });

  it('lists the other executions with the same inputs, old runs by the key their id gives', () => {
    expect(sameInputs(entries, entries[0]!)).toEqual([entries[1]]);
    expect(sameInputs(entries, entries[2]!)).toEqual([]);
    const legacy = entry('train', sampleRun(4, { id: 'r-1111111111111111', key: undefined }));
    expect(sameInputs([...entries, legacy], legacy)).toEqual([entries[0], entries[1]]);
  });
});
