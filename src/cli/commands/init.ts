import { init } from '../../commands/init.js';
import type { Output } from '../output.js';
import { selfCommand } from '../self-command.js';

export async function runInit(out: Output): Promise<void> {
  const res = init({ cwd: out.cwd, command: selfCommand() });
  if (res.mergeDriverProblem) out.warn(`merge driver not registered (${res.mergeDriverProblem}): mlx install registers it`);
  const commit = [...(res.created ? ['.mlx/config.yaml', '.mlx/.gitignore'] : []), ...(res.gitattributes ? ['.gitattributes'] : [])];
  out.result(res, () => [
    res.created ? `Initialised mlx in ${res.root}/.mlx` : `mlx is already initialised in ${res.root}`,
    ...(commit.length ? [`Commit ${commit.join(', ').replace(/, ([^,]*)$/, ' and $1')}.`] : []),
  ]);
}
