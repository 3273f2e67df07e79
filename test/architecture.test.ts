import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Imports point one way: cli → workspace | remote | git | run → store → formats → hash → util.
const LAYER: Record<string, number> = { util: 0, hash: 1, formats: 1.5, store: 2, workspace: 3, remote: 3, git: 3, run: 3, cli: 5 };
// Layer-3 folders may use each other only where listed (workspace drives remote transfers, not the reverse).
const SIDEWAYS: Record<string, string[]> = { workspace: ['remote', 'git'], run: ['workspace', 'git', 'remote'], remote: [], git: [] };

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? sources(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : []));
}

describe('architecture', () => {
  it('imports only point down the layers', () => {
    const src = path.resolve(__dirname, '../src');
    const violations: string[] = [];
    for (const file of sources(src)) {
      const from = path.relative(src, file).split(path.sep)[0]!;
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
        const target = path.relative(src, path.resolve(path.dirname(file), m[1]!)).split(path.sep)[0]!;
        if (target === from || !(target in LAYER)) continue;
        const ok = LAYER[target]! < LAYER[from]! || (LAYER[target] === LAYER[from] && (SIDEWAYS[from] ?? []).includes(target));
        if (!ok) violations.push(`${path.relative(src, file)} imports ${m[1]}`);
      }
    }
    expect(violations).toEqual([]);
  });
});
