import { errorCode } from '../helpers/errors.js';
import { describe, expect, it } from 'vitest';
import { isExecutable, parsePointer, sameContent, serializePointer, type Pointer } from '../../src/formats/pointer.js';
import { forEachEntryPair, parseManifest, serializeManifest, type ManifestEntry } from '../../src/formats/manifest.js';
import { parseConfig, parseLinkTypes } from '../../src/formats/config.js';

const OID = `b3:${'ab'.repeat(32)}`;
const OID2 = `b3:${'cd'.repeat(32)}`;

describe('pointer files', () => {
  it('round-trip with a fixed key order', () => {
    const p: Pointer = { version: 1, path: 'data/train', kind: 'dir', oid: OID, size: 10, files: 2 };
    const text = serializePointer(p);
    expect(text.split('\n').slice(1, -1).map((l) => l.split(':')[0])).toEqual(['version', 'path', 'kind', 'oid', 'size', 'files']);
    expect(parsePointer(text, 'x.mlx')).toEqual(p);
  });

  it('an executable file records x: true last; other files are written exactly as before', () => {
    const exec: Pointer = { version: 1, path: 'tool.bin', kind: 'file', oid: OID, size: 7, x: true };
    const text = serializePointer(exec);
    expect(text.split('\n').slice(1, -1)).toEqual(['version: 1', 'path: tool.bin', 'kind: file', `oid: ${OID}`, 'size: 7', 'x: true']);
    expect(parsePointer(text, 'tool.bin.mlx')).toEqual(exec);
    const plain = `# mlx pointer — do not edit by hand\nversion: 1\npath: a.bin\nkind: file\noid: ${OID}\nsize: 7\n`;
    expect(serializePointer(parsePointer(plain, 'a.bin.mlx'))).toBe(plain);
    expect(serializePointer({ version: 1, path: 'a.bin', kind: 'file', oid: OID, size: 7, x: false })).toBe(plain);
    expect(isExecutable(parsePointer(plain, 'a.bin.mlx'))).toBe(false);
    expect(sameContent(exec, { ...exec, x: undefined })).toBe(false);
    expect(sameContent({ ...exec, x: false }, { ...exec, x: undefined })).toBe(true);
  });

  it.each([
    ['x on a directory', `version: 1\npath: a\nkind: dir\noid: ${OID}\nsize: 1\nfiles: 1\nx: true\n`],
    ['x not a boolean', `version: 1\npath: a\nkind: file\noid: ${OID}\nsize: 1\nx: 755\n`],
    ['not yaml', 'a: [b'],
    ['missing oid', 'version: 1\npath: a\nkind: file\nsize: 1\n'],
    ['bad oid', 'version: 1\npath: a\nkind: file\noid: md5:abc\nsize: 1\n'],
    ['unknown kind', `version: 1\npath: a\nkind: socket\noid: ${OID}\nsize: 1\n`],
    ['extra key', `version: 1\npath: a\nkind: file\noid: ${OID}\nsize: 1\nowner: me\n`],
    ['future version', `version: 2\npath: a\nkind: file\noid: ${OID}\nsize: 1\n`],
    ['negative size', `version: 1\npath: a\nkind: file\noid: ${OID}\nsize: -1\n`],
    ['a size beyond 2^53', `version: 1\npath: a\nkind: file\noid: ${OID}\nsize: 1e300\n`],
    ['empty file', ''],
  ])('rejects %s with EBADPOINTER', (_name, text) => {
    expect(errorCode(() => parsePointer(text, 'p.mlx'))).toBe('EBADPOINTER');
  });

  it.each([
    ['escaping path', '../a'],
    ['absolute path', '/etc/a'],
    ['path into .git', 'sub/.GIT/hooks/x'],
    ['path into .mlx', '.mlx/config.yaml'],
    ['path with a line break', 'a\nb'],
  ])('refuses %s in the path field with EBADPATH (the path rule)', (_name, p) => {
    expect(errorCode(() => parsePointer(`version: 1\npath: ${JSON.stringify(p)}\nkind: file\noid: ${OID}\nsize: 1\n`, 'p.mlx'))).toBe('EBADPATH');
  });
});

describe('directory manifests', () => {
  const entries: ManifestEntry[] = [
    { p: 'b/z.bin', o: OID, s: 3, x: false },
    { p: 'a.sh', o: OID2, s: 5, x: true },
    { p: 'empty', t: 'd' },
    { p: 'link', t: 'l', l: 'a.sh' },
    { p: 'é.txt', o: OID, s: 3, x: false },
    { p: 'Z.txt', o: OID, s: 3, x: false },
  ];

  it('serialises canonically: sorted by UTF-8 bytes, independent of input order', () => {
    const text = serializeManifest(entries);
    expect(serializeManifest([...entries].reverse())).toBe(text);
    expect(JSON.parse(text).entries.map((e: ManifestEntry) => e.p)).toEqual(['Z.txt', 'a.sh', 'b/z.bin', 'empty', 'link', 'é.txt']);
    expect(text.startsWith('{"v":1,"entries":[{"p":"Z.txt","o":"b3:')).toBe(true);
    expect(parseManifest(text, 'm').entries).toHaveLength(6);
  });

  it.each([
    ['a parent segment', '../x'],
    ['an absolute path', '/x'],
    ['an empty segment', 'a//x'],
    ['a dot segment', 'a/./x'],
    ['a .git component', 'a/.Git/config'],
  ])('refuses %s with EBADPATH (the path rule)', (_name, p) => {
    expect(errorCode(() => parseManifest(`{"v":1,"entries":[{"p":${JSON.stringify(p)},"o":"${OID}","s":1,"x":false}]}`, 'm'))).toBe('EBADPATH');
  });

  it('checks the folder of an entry whose folder name is as long as the one before it', () => {
    // Only the last name is checked again within one folder: "../y" must not pass as a name in "ab".
    const text = `{"v":1,"entries":[{"p":"ab/x","o":"${OID}","s":1,"x":false},{"p":"../y","o":"${OID}","s":1,"x":false}]}`;
    expect(errorCode(() => parseManifest(text, 'm'))).toBe('EBADPATH');
    const bad = `{"v":1,"entries":[{"p":"ab/x","o":"${OID}","s":1,"x":false},{"p":"ab/..","o":"${OID}","s":1,"x":false}]}`;
    expect(errorCode(() => parseManifest(bad, 'm'))).toBe('EBADPATH');
  });

  it.each([
    ['a duplicate path', `{"v":1,"entries":[{"p":"x","o":"${OID}","s":1,"x":false},{"p":"x","t":"d"}]}`],
    ['a file beneath a link', `{"v":1,"entries":[{"p":"l","t":"l","l":"/etc"},{"p":"l/passwd","o":"${OID}","s":1,"x":false}]}`],
    ['a file beneath a file', `{"v":1,"entries":[{"p":"f","o":"${OID}","s":1,"x":false},{"p":"f/g","o":"${OID}","s":1,"x":false}]}`],
    // In canonical order the parent is not always next to its child ("a-x" sorts between "a" and "a/b").
    ['a file beneath a file, another name between', `{"v":1,"entries":[{"p":"a","o":"${OID}","s":1,"x":false},{"p":"a-x","t":"d"},{"p":"a/b","o":"${OID}","s":1,"x":false}]}`],
    ['a file deep beneath an empty directory', `{"v":1,"entries":[{"p":"d","t":"d"},{"p":"d/e/f","o":"${OID}","s":1,"x":false}]}`],
    ['a file beneath a link, out of order', `{"v":1,"entries":[{"p":"l/passwd","o":"${OID}","s":1,"x":false},{"p":"l","t":"l","l":"/etc"}]}`],
    // The folder before has a name as long as "ab": its parents being checked says nothing of these.
    ['a file beneath a file, after a folder of the same length', `{"v":1,"entries":[{"p":"cd/x","o":"${OID}","s":1,"x":false},{"p":"ab","o":"${OID}","s":1,"x":false},{"p":"ab/y","o":"${OID}","s":1,"x":false}]}`],
    ['a duplicate path, out of order', `{"v":1,"entries":[{"p":"y","t":"d"},{"p":"x","t":"d"},{"p":"y","t":"d"}]}`],
    ['a bad oid', '{"v":1,"entries":[{"p":"x","o":"b3:00","s":1,"x":false}]}'],
    ['a missing key', `{"v":1,"entries":[{"p":"x","o":"${OID}","s":1}]}`],
    ['an unknown version', '{"v":9,"entries":[]}'],
    ['invalid JSON', '{"v":1,'],
  ])('rejects %s with EBADMANIFEST', (_name, text) => {
    expect(errorCode(() => parseManifest(text, 'm'))).toBe('EBADMANIFEST');
  });
});

describe('config', () => {
  it('parses link type lists and rejects unknown ones', () => {
    expect(parseLinkTypes(undefined)).toEqual(['reflink', 'copy']);
    expect(parseLinkTypes('hardlink, copy')).toEqual(['hardlink', 'copy']);
    expect(errorCode(() => parseLinkTypes('wormhole'))).toBe('EBADCONFIG');
    expect(errorCode(() => parseLinkTypes(''))).toBe('EBADCONFIG');
  });

  it('rejects unknown config keys', () => {
    expect(parseConfig('cache:\n  type: copy\n', 'c')).toEqual({ cache: { type: 'copy' } });
    expect(errorCode(() => parseConfig('cache:\n  colour: red\n', 'c'))).toBe('EBADCONFIG');
  });
});

describe('forEachEntryPair', () => {
  const f = (p: string): ManifestEntry => ({ p, o: OID, s: 1, x: false });
  const pairs = (a: ManifestEntry[], b: ManifestEntry[]) => {
    const out: [string | undefined, string | undefined][] = [];
    forEachEntryPair(a, b, (x, y) => out.push([x?.p, y?.p]));
    return out.sort((x, y) => ((x[0] ?? x[1])! < (y[0] ?? y[1])! ? -1 : 1));
  };

  it('pairs entries by path, in manifest order or not', () => {
    const before = [f('a'), f('b/c'), f('é')];
    const after = [f('a'), f('b.txt'), f('é'), f('z')].sort((x, y) => (Buffer.compare(Buffer.from(x.p), Buffer.from(y.p))));
    const expected = [['a', 'a'], [undefined, 'b.txt'], ['b/c', undefined], ['é', 'é'], [undefined, 'z']];
    expect(pairs(before, after)).toEqual(expected.sort((x, y) => ((x[0] ?? x[1])! < (y[0] ?? y[1])! ? -1 : 1)));
    expect(pairs([...before].reverse(), after)).toEqual(pairs(before, after));
    expect(pairs(before, [...after].reverse())).toEqual(pairs(before, after));
  });
});
