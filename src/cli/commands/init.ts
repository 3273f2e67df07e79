import { init } from '../../commands/init.js';
import type { Output } from '../output.js';

export async function runInit(out: Output): Promise<void> {
  const res = init({ cwd: out.cwd });
  out.result(res, () => [res.created ? `Initialised mlx in ${res.root}/.mlx` : `mlx is already initialised in ${res.root}`, ...(res.created ? ['Commit .mlx/config.yaml and .mlx/.gitignore.'] : [])]);
}
