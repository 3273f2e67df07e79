import path from 'node:path';
import { installHooks } from '../../commands/install-hooks.js';
import type { Output } from '../output.js';
import { selfCommand } from '../self-command.js';

export async function runInstall(out: Output): Promise<void> {
  const res = await installHooks({ cwd: out.cwd, command: selfCommand() });
  const where = res.hooksPath !== undefined ? ` in ${res.hooksPath} (core.hooksPath)` : '';
  out.result(res, () => [
    ...(res.managedBy
      ? [`hooks not installed: core.hooksPath is ${res.hooksPath ?? res.hooksDir}, which ${res.managedBy.tool} manages (it would overwrite them); instead:`, ...res.managedBy.advice.map((a) => `  ${a}`)]
      : res.hooks.map((h) => `installed hook ${h.name}${where}${h.chained ? ` (runs the previous hook, kept as ${path.basename(h.chained)}, first)` : ''}`)),
    'registered the merge driver "mlx" for *.mlx, mlx.lock and .gitignore',
    ...(res.gitattributes ? ['updated .gitattributes: commit it so every clone merges with mlx'] : []),
  ]);
}
