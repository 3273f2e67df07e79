import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/util/errors.js';
import { E, isMlxError, MlxError, objectMissing, problemError, remoteUnreachable, reworded, type ErrorCode } from '../../src/util/errors.js';

/** Each code with its factory and one data value of its shape (required fields filled in). */
const FACTORIES: [ErrorCode, (message: string, opts: never) => MlxError, Record<string, unknown>][] = [
  [E.NOT_A_GIT_REPO, errors.notAGitRepo, {}],
  [E.NOT_INITIALISED, errors.notInitialised, {}],
  [E.NO_COMMITS, errors.noCommits, {}],
  [E.BAD_PATH, errors.badPath, { path: 'a/../b', rule: 'has a .. segment' }],
  [E.PATH_NOT_FOUND, errors.pathNotFound, { path: 'data', rev: 'HEAD' }],
  [E.NOT_TRACKED, errors.notTracked, {}],
  [E.BAD_POINTER, errors.badPointer, { pointer: 'data.mlx' }],
  [E.POINTER_MOVED, errors.pointerMoved, {}],
  [E.BAD_MANIFEST, errors.badManifest, { manifest: 'b3:00' }],
  [E.BAD_CONFIG, errors.badConfig, { url: 's3://b', option: 'region' }],
  [E.BAD_OID, errors.badOid, { ref: 'b3:zz' }],
  [E.BAD_STATE, errors.badState, { files: ['a', 'b'] }],
  [E.OBJECT_MISSING, errors.objectMissing, { oid: 'b3:01', oids: ['b3:01'] }],
  [E.OBJECT_CORRUPT, errors.objectCorrupt, { oid: 'b3:01', actual: 'b3:02' }],
  [E.SIZE_MISMATCH, errors.sizeMismatch, { path: 'data', oid: 'b3:01', expected: 3, actual: 2 }],
  [E.OVERLAP, errors.pathsOverlap, { paths: ['a', 'a/b'] }],
  [E.LOCAL_CHANGES, errors.localChanges, { paths: ['a'] }],
  [E.PARTIAL_CHECKOUT, errors.partialCheckout, { path: 'data', present: 1, total: 3 }],
  [E.LOCKED, errors.lockHeld, { lockFile: '/x/lock', owner: { pid: 1, host: 'h', started: 0 } }],
  [E.LINK_FAILED, errors.linkFailed, {}],
  [E.USAGE, errors.badUsage, {}],
  [E.UNKNOWN_REVISION, errors.unknownRevision, { rev: 'nope' }],
  [E.MERGE_CONFLICT, errors.mergeConflict, {}],
  [E.VERIFY_FAILED, errors.verifyFailed, {}],
  [E.BAD_RUNLOCK, errors.badRunLock, {}],
  [E.RUN_FAILED, errors.runFailed, { exitCode: 3 }],
  [E.UNKNOWN_RUN, errors.unknownRun, {}],
  [E.BAD_PARAMS, errors.badParams, { file: 'params.yaml', key: 'lr' }],
  [E.REMOTE_NOT_FOUND, errors.remoteNotFound, { url: 'file:///r', key: 'k', op: 'get' }],
  [E.REMOTE_CORRUPT, errors.remoteCorrupt, { key: 'k', stored: 1, expected: 2 }],
  [E.REMOTE_UNREACHABLE, errors.remoteUnreachable, { url: 's3://b', key: 'k', op: 'get', code: 'ECONNRESET' }],
  [E.REMOTE_AUTH, errors.remoteAuth, { url: 's3://b', status: 403 }],
  [E.REMOTE_NO_BUCKET, errors.remoteNoBucket, { url: 's3://b', bucket: 'b' }],
  [E.REMOTE_FAILED, errors.remoteFailed, { prefix: 'packs/' }],
  [E.BAD_PACK_INDEX, errors.badPackIndex, { index: 'x.idx' }],
  [E.BAD_RECIPE, errors.badRecipe, { recipe: 'b3:01' }],
  [E.BAD_ENV_RECORD, errors.badEnvRecord, { source: 'env', version: 9 }],
  [E.AMBIGUOUS_OID, errors.ambiguousOid, { ref: 'b3:0', matches: ['b3:01', 'b3:02'] }],
  [E.GIT_REMOTE, errors.gitRemoteFailed, { args: ['ls-remote'] }],
  [E.NOT_RECORDED, errors.notRecorded, {}],
];

describe('error codes', () => {
  it('are unique', () => {
    const values = Object.values(E);
    expect(new Set(values).size).toBe(values.length);
  });

  it('each have one factory', () => {
    expect(FACTORIES.map(([code]) => code).sort()).toEqual(Object.values(E).sort());
    expect(new Set(FACTORIES.map(([, make]) => make)).size).toBe(FACTORIES.length);
  });

  it('never appear as string literals in src (callers use E)', () => {
    const src = path.resolve(__dirname, '../../src');
    const files = (fs.readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && path.join(src, f) !== path.join(src, 'util', 'errors.ts'));
    const hits: string[] = [];
    for (const f of files) {
      const text = fs.readFileSync(path.join(src, f), 'utf8');
      for (const code of Object.values(E)) if (new RegExp(`['"\`]${code}['"\`]`).test(text)) hits.push(`${f}: ${code}`);
    }
    expect(hits).toEqual([]);
  });

  it('are all listed in spec/cli.md', () => {
    const spec = fs.readFileSync(path.resolve(__dirname, '../../spec/cli.md'), 'utf8');
    expect(Object.values(E).filter((code) => !spec.includes(`\`${code}\``))).toEqual([]);
  });

  it('are constructed only by their factories (each code has one data shape)', () => {
    const src = path.resolve(__dirname, '../../src');
    const files = (fs.readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && path.join(src, f) !== path.join(src, 'util', 'errors.ts'));
    expect(files.filter((f) => /\bnew MlxError\(/.test(fs.readFileSync(path.join(src, f), 'utf8')))).toEqual([]);
  });
});

describe('error factories', () => {
  it.each(FACTORIES)('%s: the code, the message, and exactly the data given', (code, make, data) => {
    const cause = new Error('underneath');
    const err = make('it broke', { ...data, hint: 'do this', cause } as never);
    expect(err).toBeInstanceOf(MlxError);
    expect(err.code).toBe(code);
    expect(err.message).toBe('it broke');
    expect(err.hint).toBe('do this');
    expect(err.cause).toBe(cause);
    expect(err.data).toEqual(data);
    expect(Object.keys(err.data)).not.toContain('hint');
    expect(Object.keys(err.data)).not.toContain('cause');
  });

  it('give empty data, no hint and no cause when told nothing', () => {
    const err = errors.badUsage('bad flag');
    expect(err.data).toEqual({});
    expect(err.hint).toBeUndefined();
    expect('cause' in err).toBe(false);
  });

  it('keep the data keys in the order given (the --json output)', () => {
    const err = objectMissing('m', { hint: 'h', oids: ['b3:01'], oid: 'b3:01' });
    expect(JSON.stringify(err.data)).toBe('{"oids":["b3:01"],"oid":"b3:01"}');
  });
});

describe('isMlxError', () => {
  it('matches on the code, one of several, and only MlxErrors', () => {
    const err = remoteUnreachable('down', { code: 'EPIPE' });
    expect(isMlxError(err, E.REMOTE_UNREACHABLE)).toBe(true);
    expect(isMlxError(err, E.REMOTE_AUTH, E.REMOTE_UNREACHABLE)).toBe(true);
    expect(isMlxError(err, E.REMOTE_AUTH)).toBe(false);
    expect(isMlxError(Object.assign(new Error('x'), { code: E.REMOTE_UNREACHABLE }), E.REMOTE_UNREACHABLE)).toBe(false);
    if (isMlxError(err, E.REMOTE_UNREACHABLE)) expect(err.data.code).toBe('EPIPE');
  });
});

describe('reworded and problemError', () => {
  it('reworded keeps code and data, and takes the new message, hint and cause', () => {
    const first = objectMissing('object gone', { oid: 'b3:01', hint: 'fetch it' });
    const cause = new Error('while undoing');
    const err = reworded(first, 'checkout failed, and object gone', { hint: first.hint, cause });
    expect([err.code, err.message, err.hint, err.cause]).toEqual([E.OBJECT_MISSING, 'checkout failed, and object gone', 'fetch it', cause]);
    expect(err.data).toEqual({ oid: 'b3:01' });
  });

  it('problemError throws a collected problem with its code, message and hint, or the ones told', () => {
    const problem = { pointer: 'a.mlx', code: E.BAD_POINTER, message: 'malformed pointer file a.mlx', hint: 'restore it' };
    const as = problemError(problem);
    expect([as.code, as.message, as.hint]).toEqual([E.BAD_POINTER, 'malformed pointer file a.mlx', 'restore it']);
    const told = problemError(problem, { message: '2 broken pointer files', hint: 'restore them' });
    expect([told.code, told.message, told.hint]).toEqual([E.BAD_POINTER, '2 broken pointer files', 'restore them']);
    expect(problemError(problem, { hint: undefined }).hint).toBeUndefined();
  });
});
