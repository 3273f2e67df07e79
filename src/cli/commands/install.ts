import path from 'node:path';
import { installHooks } from '../../commands/install-hooks.js';
import type { Output } from '../output.js';

/** How hooks and the merge driver start this very mlx: absolute paths, whatever the shell's PATH. */
function selfCommand(): string[] {
  return [process.execPath, path.resolve(process.argv[1] ?? 'mlx')];
}

export async function runInstall(out: Output): Promise<void> {
  const res = await installHooks({ cwd: out.cwd, command: selfCommand() });
  out.result(res, () => [
    ...res.hooks.map((h) => `installed hook ${h.name}${h.chained ? ` (runs the previous hook, kept as ${path.basename(h.chained)}, first)` : ''}`),
    'registered the merge driver "mlx" for *.mlx and mlx.lock',
    ...(res.gitattributes ? ['updated .gitattributes: commit it so every clone merges pointers with mlx'] : []),
  ]);
}
