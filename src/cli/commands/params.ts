import { params } from '../../commands/params.js';
import type { Output } from '../output.js';
import { flatten } from '../render/values.js';

export function runParams(out: Output, file: string | undefined): void {
  const res = params({ cwd: out.cwd, file });
  out.result(res, () => flatten(res.params));
}
