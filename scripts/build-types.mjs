// The library's type declarations: tsc emits them for everything src/api/index.ts reaches, into a
// folder outside dist/ that is then emptied; dist/types gets only the files the public entry's own
// declarations import, and the build fails if any of them names a package (src/api/types.ts declares
// the results so that users need no package but Node's types).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const emitted = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-types-'));
const out = path.join(root, 'dist', 'types');

try {
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.lib.json'), '--outDir', emitted], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  const files = closure(emitted, 'api/index.d.ts');
  fs.rmSync(out, { recursive: true, force: true });
  for (const rel of files) {
    fs.mkdirSync(path.dirname(path.join(out, rel)), { recursive: true });
    fs.copyFileSync(path.join(emitted, rel), path.join(out, rel));
  }
} finally {
  fs.rmSync(emitted, { recursive: true, force: true });
}

/** The declaration files `entry` imports, transitively; a package import other than `node:` stops the build. */
function closure(dir, entry) {
  const seen = new Set();
  const todo = [entry];
  while (todo.length > 0) {
    const rel = todo.pop();
    if (seen.has(rel)) continue;
    seen.add(rel);
    // Comments (TSDoc examples) are not imports.
    const text = fs.readFileSync(path.join(dir, rel), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(/(?:from\s*|import\s*\(\s*)['"]([^'"]+)['"]/g)) {
      const spec = m[1];
      if (spec.startsWith('node:')) continue;
      if (!spec.startsWith('.')) {
        console.error(`build-types: ${rel} imports the package ${spec}: the public declarations must name none (declare the type in src/api/types.ts)`);
        process.exit(1);
      }
      todo.push(path.posix.join(path.posix.dirname(rel), spec.replace(/\.js$/, '.d.ts')));
    }
  }
  return [...seen].sort();
}
