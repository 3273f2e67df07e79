import * as YAML from 'yaml';
import { describe, expect, it, vi } from 'vitest';
import { readSimpleYaml } from '../../src/formats/simple-yaml.js';

/*
 * The strict reader may decline any text, but what it reads must be exactly what the yaml library
 * reads: these tests compare the two on what mlx writes, on tricky hand-written forms and on many
 * random edits of both.
 */

const OID = `b3:${'ab'.repeat(32)}`;
const HEADER = '# mlx pointer — do not edit by hand\n';

/** What the yaml library reads, or 'throws'. */
function library(text: string): unknown {
  try {
    return { value: YAML.parse(text) };
  } catch {
    return 'throws';
  }
}

/** Fails unless the reader declines `text` or reads what the library reads. */
function expectAgreement(text: string): void {
  const simple = readSimpleYaml(text);
  if (simple !== undefined) expect({ text, read: library(text) }).toStrictEqual({ text, read: simple });
}

const pointer = (path: string, extra: Record<string, unknown> = {}) =>
  HEADER + YAML.stringify({ version: 1, path, kind: 'file', oid: OID, size: 1234, ...extra }, { lineWidth: 0 });

const CONFIGS: unknown[] = [
  {},
  { cache: { type: 'reflink,copy', verify: true, shared: 'group', dir: '../shared cache/objects' } },
  { cache: {}, core: { remote: 'origin' } },
  {
    core: { remote: 'store' },
    remotes: {
      store: { url: 's3://bucket/prefix/path', endpoint: 'http://127.0.0.1:9000', region: 'eu-west-1', force_path_style: true, max_attempts: 3, profile: 'team-a' },
      backup: { url: 'file:///mnt/backup/mlx' },
      'local.copy-2': { url: '/srv/mlx store' },
    },
  },
];

describe('readSimpleYaml', () => {
  it('reads the pointers mlx writes, with plain and quoted paths, as the yaml library does', () => {
    const plainPaths = ['data/train', 'a.bin', 'models/v1/model.safetensors', 'my file.bin', 'a,b(1)', 'x:y', '_tmp/x', 'Yes', 'on', 'a-', '.hidden/x', '../up'];
    for (const p of plainPaths) {
      for (const extra of [{}, { x: true }, { kind: 'dir', files: 0 }, { size: 0 }, { size: Number.MAX_SAFE_INTEGER }]) {
        const text = pointer(p, extra);
        expect(readSimpleYaml(text), text).toStrictEqual({ value: YAML.parse(text) });
      }
    }
    // Paths the library writes quoted: read where the quoting has no escapes, declined otherwise.
    for (const p of ['123', 'true', 'null', '1e3', '.5', '.inf', '.NaN', '.5e3', ' lead', 'trail ', 'a: b', 'a #b', '#x', '[x', '-x', "it's", 'say "hi"', 'back\\slash', 'é', 'tab\tx', 'line\nbreak', '']) {
      expectAgreement(pointer(p));
    }
    expect(readSimpleYaml(pointer('123'))).toStrictEqual({ value: YAML.parse(pointer('123')) });
    // Beyond 2^53 an integer is not exact: left to the library.
    expect(readSimpleYaml(pointer('a', { size: 2 ** 53 }))).toBeUndefined();
  });

  it('reads the configs mlx writes (mlx init writes `{}` under a comment; a missing file is empty)', () => {
    const init = `# mlx configuration (committed); machine-local settings go in config.local.yaml\n${YAML.stringify({})}`;
    expect(readSimpleYaml(init)).toStrictEqual({ value: {} });
    expect(readSimpleYaml('')).toStrictEqual({ value: null });
    expect(YAML.parse('')).toBeNull();
    for (const config of CONFIGS) {
      const text = YAML.stringify(config);
      expect(readSimpleYaml(text), text).toStrictEqual({ value: YAML.parse(text) });
    }
  });

  it('declines what it cannot read for certain, and never reads anything differently from the library', () => {
    const tricky = [
      'a: 012\n', 'a: +1\n', 'a: -1\n', 'a: 1.5\n', 'a: 0x1f\n', 'a: 0o17\n', 'a: 1e3\n', 'a: .inf\n', 'a: ~\n', 'a: null\n', 'a: Null\n', 'a: True\n', 'a: FALSE\n',
      'a: 1234567890123456789\n', 'a:\n', 'a:\nb: c\n', 'a:\n    b: c\n', 'a:\n  b: c\n d: e\n', ' a: b\n', 'a: b\n  c: d\n', 'a: b\n  c\n', 'a: b\na: c\n', 'a:\n  b: 1\na: 2\n',
      'true: x\n', 'null: x\n', '1: x\n', '__proto__: x\n', 'constructor: x\n', 'a: b # c\n', 'a: b #c\n', 'a: b\t\n', 'a: b \n', 'a:  b\n', 'a : b\n', 'a:b\n',
      'a: "b\\"c"\n', "a: 'b''c'\n", 'a: "b" \n', 'a: "#b"\n', "a: '#b'\n", 'a: "b\n', 'a: [b]\n', 'a: {b: c}\n', 'a: {}\n', 'a: b]\n', 'a: &x b\n', 'a: *x\n', 'a: !!str 1\n',
      'a: |\n  b\n', 'a: >\n  b\n', '- a\n', '---\na: b\n', 'a: b\n...\n', '%YAML 1.2\n---\na: b\n', '\ufeffa: b\n', 'a: b\r\n', 'a: b', '\n\n', '  # c\n', '{}\n# c\n', ' {}\n', '{ }\n', '[]\n',
      'a: é\n', 'a: "é"\n', '# ü\na: b\n', 'a: b:\n', 'a: b: c\n', 'a: http://h:9000/p?q=1&r=2\n', 'a: s3://KEY:SECRET@bucket\n', 'a:\n  # c\n  b: c\n', 'a:\n\n  b: c\n',
    ];
    for (const text of tricky) expectAgreement(text);
    // A few it must decline: the library reads them as something other than the text's plain words.
    for (const text of ['a: 012\n', 'a: b # c\n', 'a: ~\n', 'a:\n', 'a: b\na: c\n', 'a: é\n', 'a: True\n']) expect(readSimpleYaml(text), text).toBeUndefined();
  });

  it('agrees with the library on thousands of random edits of pointers and configs', () => {
    const seeds = [...['data/train', 'my file.bin', '123'].map((p) => pointer(p, { x: true })), ...CONFIGS.map((c) => YAML.stringify(c)), '# c\n{}\n'];
    const alphabet = [' ', '  ', '\n', '\t', '#', ':', ': ', '"', "'", '-', '.', '0', '1', 'x', '{', '}', '[', ']', '&', '*', '!', '|', '>', '~', '\\', ',', '?', '%', '@', 'é', '\r', 'true', 'null'];
    let state = 12345;
    const random = (n: number) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
    let read = 0;
    for (let i = 0; i < 6000; i++) {
      let text = seeds[random(seeds.length)]!;
      for (let edits = 1 + random(3); edits > 0; edits--) {
        const at = random(text.length + 1);
        const op = random(3);
        if (op === 0) text = text.slice(0, at) + alphabet[random(alphabet.length)] + text.slice(at);
        else if (op === 1) text = text.slice(0, at) + text.slice(at + 1 + random(3));
        else {
          const lines = text.split('\n');
          const l = random(lines.length);
          lines.splice(random(lines.length), 0, lines[l]!);
          text = lines.join('\n');
        }
      }
      expectAgreement(text);
      if (readSimpleYaml(text) !== undefined) read++;
    }
    // The edits leave many texts inside the subset, so the comparison above is not vacuous.
    expect(read).toBeGreaterThan(1000);
  });
});

describe('pointer and config files without the yaml library', () => {
  it('mlx-written pointers and configs are read without loading it; a hand-edited file loads it and reads as before', async () => {
    vi.resetModules();
    const { parsePointer } = await import('../../src/formats/pointer.js');
    const { parseConfig } = await import('../../src/formats/config.js');
    const { yamlLibraryLoaded } = await import('../../src/formats/yaml-library.js');
    const canonical = pointer('data/train');
    const expected = { version: 1, path: 'data/train', kind: 'file', oid: OID, size: 1234 };
    expect(parsePointer(canonical, 'data/train.mlx')).toStrictEqual(expected);
    expect(parseConfig(YAML.stringify(CONFIGS[3]), 'config.yaml')).toStrictEqual(CONFIGS[3]);
    expect(parseConfig('', 'config.local.yaml')).toStrictEqual({});
    expect(yamlLibraryLoaded()).toBe(false);

    // Hand-edited: a trailing comment, four-space indents, a flow map.
    expect(parsePointer(canonical.replace('size: 1234', 'size: 1234  # bytes'), 'data/train.mlx')).toStrictEqual(expected);
    expect(yamlLibraryLoaded()).toBe(true);
    expect(parseConfig('core:\n    remote: origin\nremotes: {origin: {url: "s3://b/p"}}\n', 'config.yaml')).toStrictEqual({ core: { remote: 'origin' }, remotes: { origin: { url: 's3://b/p' } } });
  });
});
