import { describe, expect, it } from 'vitest';
import { configBySchema, parseConfig, parseLinkTypes } from '../../src/formats/config.js';
import { parsePointer, pointerBySchema, pointerInOwnForm } from '../../src/formats/pointer.js';

/*
 * Pointers with exactly the fields mlx writes, empty configs and lists of link type names are checked
 * without building their zod schemas. The shortcut may decline anything, but what it accepts must be
 * exactly what the schema accepts, with the same value (the same keys in the same order).
 */

const OID = `b3:${'ab'.repeat(32)}`;

/** Fails unless the shortcut declines `raw` or gives what the schema gives. */
function expectAgreement(raw: unknown): void {
  const own = pointerInOwnForm(raw);
  if (own === undefined) return;
  const bySchema = pointerBySchema(raw);
  expect(bySchema.success, JSON.stringify(raw)).toBe(true);
  expect(JSON.stringify(own)).toBe(JSON.stringify(bySchema.data));
  expect(own).toStrictEqual(bySchema.data);
}

describe('pointers in the form mlx writes', () => {
  it('are taken by the shortcut with the value the schema gives', () => {
    const written = [
      { version: 1, path: 'data/train', kind: 'file', oid: OID, size: 0 },
      { version: 1, path: 'tool', kind: 'file', oid: OID, size: 7, x: true },
      { version: 1, path: 'd', kind: 'dir', oid: OID, size: Number.MAX_SAFE_INTEGER, files: 3 },
    ];
    for (const raw of written) {
      expect(pointerInOwnForm(raw)).toStrictEqual(raw);
      expectAgreement(raw);
    }
  });

  it('anything else is left to the schema, and the shortcut never takes what the schema refuses', () => {
    const base = { version: 1, path: 'a', kind: 'file', oid: OID, size: 5 };
    const values = [undefined, null, 0, 1, 2, -1, 1.5, 2 ** 53, '1', '', 'a', true, false, 'file', 'dir', OID, OID.toUpperCase(), `b3:${'ab'.repeat(31)}`, [], {}];
    const keys = ['version', 'path', 'kind', 'oid', 'size', 'files', 'x', 'extra'];
    let taken = 0;
    for (const kind of ['file', 'dir']) {
      const start: Record<string, unknown> = kind === 'dir' ? { ...base, kind, files: 2 } : { ...base };
      for (const key of keys) {
        for (const value of values) {
          const raw: Record<string, unknown> = { ...start, [key]: value };
          if (value === undefined) delete raw[key];
          expectAgreement(raw);
          if (pointerInOwnForm(raw) !== undefined) taken++;
        }
      }
    }
    for (const raw of [null, [], 'pointer', 1, Object.create(null), Object.assign(Object.create({ inherited: 1 }), base), [base]]) {
      expectAgreement(raw);
      expect(pointerInOwnForm(raw)).toBeUndefined();
    }
    expect(taken).toBeGreaterThan(10);
  });

  it('pointers outside that form still parse (or fail) as before', () => {
    const header = '# mlx pointer — do not edit by hand\n';
    expect(parsePointer(`${header}version: 1\npath: a\nkind: file\noid: ${OID}\nsize: 5\nx: false\n`, 'a.mlx')).toStrictEqual({ version: 1, path: 'a', kind: 'file', oid: OID, size: 5, x: false });
    expect(() => parsePointer(`${header}version: 1\npath: a\nkind: file\noid: ${OID}\nsize: 5\nfiles: 2\n`, 'a.mlx')).toThrow(/malformed pointer file a\.mlx/);
    expect(() => parsePointer(`${header}version: 1\npath: a\nkind: file\noid: b3:00\nsize: 5\n`, 'a.mlx')).toThrow(/oid: expected an object id/);
  });
});

describe('configs and link types without the schema', () => {
  it('an empty or absent config is {} as the schema reads it', () => {
    for (const text of ['', '# only a comment\n', '{}\n', '# mlx configuration\n{}\n']) expect(parseConfig(text, 'c.yaml')).toStrictEqual({});
    expect(configBySchema({})).toMatchObject({ success: true, data: {} });
    expect(parseConfig('core:\n  remote: origin\n', 'c.yaml')).toStrictEqual({ core: { remote: 'origin' } });
    expect(() => parseConfig('colour: blue\n', 'c.yaml')).toThrow(/config c\.yaml is invalid/);
  });

  it('lists of link type names read as the schema reads them; anything else gets its error', () => {
    expect(parseLinkTypes(undefined)).toEqual(['reflink', 'copy']);
    expect(parseLinkTypes(' hardlink , copy,,')).toEqual(['hardlink', 'copy']);
    expect(parseLinkTypes('symlink')).toEqual(['symlink']);
    for (const bad of ['', ',', 'reflink,cp', 'Copy']) expect(() => parseLinkTypes(bad), bad).toThrow(/cache\.type .* is invalid/);
  });
});
