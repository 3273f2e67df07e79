import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layering of ARCHITECTURE.md: a folder imports only from folders in lower tiers, never from a
 * peer in its own tier and never upwards. Files inside one folder may import each other.
 */
export const TIERS: string[][] = [['util'], ['hash'], ['formats', 'plots'], ['store'], ['workspace', 'remote', 'git'], ['repository'], ['run'], ['commands'], ['cli', 'api']];
const TIER = new Map(TIERS.flatMap((folders, i) => folders.map((f) => [f, i] as const)));

/** Every relative module specifier in a source text: static imports, `export … from`, dynamic `import()`, both quote styles. */
export function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g)) found.push(m[2]!);
  return found;
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? sources(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : []));
}

/** The imports of `files` (paths under `src`) that break the layering, as `file imports specifier`. */
export function layeringViolations(src: string, files: { file: string; text: string }[]): string[] {
  const violations: string[] = [];
  for (const { file, text } of files) {
    const from = path.relative(src, file).split(path.sep)[0]!;
    for (const spec of specifiers(text)) {
      const target = path.relative(src, path.resolve(path.dirname(file), spec)).split(path.sep)[0]!;
      if (target === from) continue;
      const [a, b] = [TIER.get(from), TIER.get(target)];
      if (a === undefined || b === undefined || b >= a) violations.push(`${path.relative(src, file)} imports ${spec}`);
    }
  }
  return violations;
}

const SRC = path.resolve(__dirname, '../src');

describe('architecture', () => {
  it('every folder of src/ has a tier', () => {
    const folders = fs.readdirSync(SRC, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(folders.filter((f) => !TIER.has(f))).toEqual([]);
  });

  it('imports only point down the tiers', () => {
    const files = sources(SRC).map((file) => ({ file, text: fs.readFileSync(file, 'utf8') }));
    expect(layeringViolations(SRC, files)).toEqual([]);
  });

  it('catches upward, sideways, re-exported and dynamic imports in either quote style', () => {
    const at = (rel: string, text: string) => ({ file: path.join(SRC, rel), text });
    const bad = [
      at('workspace/a.ts', "import { x } from '../remote/remote.js';"),
      at('workspace/b.ts', 'import { y } from "../git/git-repo.js";'),
      at('workspace/c.ts', "export { z } from '../run/catalog.js';"),
      at('store/d.ts', "const m = await import('../workspace/repo.js');"),
      at('run/e.ts', "import type { C } from '../commands/add.js';"),
      at('remote/f.ts', "import '../workspace/repo.js';"),
    ];
    expect(layeringViolations(SRC, bad)).toHaveLength(bad.length);
    const good = [at('commands/g.ts', "import { h } from '../run/catalog.js';\nimport { i } from './add.js';"), at('cli/j.ts', "const k = await import('./commands/add.js');")];
    expect(layeringViolations(SRC, good)).toEqual([]);
  });

  it('a command file of the CLI calls src/commands and renders: no file system, hashing, git or lower tiers', () => {
    const dir = path.join(SRC, 'cli/commands');
    // Allowed: the verbs, the error type, oid abbreviation for display, and the CLI's own modules.
    const allowed = /^(\.\.\/\.\.\/commands\/|\.\.\/\.\.\/util\/errors\.js$|\.\.\/\.\.\/hash\/oid\.js$|\.\.\/(?!\.\.)|\.\/)/;
    const offenders = fs.readdirSync(dir).flatMap((f) => {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      const bare = [...text.matchAll(/\bfrom\s*(['"])((?:node:)?(?:fs|fs\/promises|child_process|crypto)|isomorphic-git|hash-wasm)\1/g)].map((m) => m[2]!);
      return [...specifiers(text).filter((s) => !allowed.test(s)), ...bare].map((s) => `${f} imports ${s}`);
    });
    expect(offenders).toEqual([]);
  });
});
