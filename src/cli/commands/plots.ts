import { plots } from '../../commands/plots.js';
import type { Output } from '../output.js';
import { plotsLines } from '../render/plots.js';

export interface PlotsFlags {
  all?: boolean;
  metrics?: string[];
  x?: string;
  output?: string;
}

/** `mlx plots [runs…|--all] [--metrics …] [-x param] [-o DIR]`: SVG files, terminal charts, or plain text when piped. */
export async function runPlots(out: Output, runs: string[], flags: PlotsFlags): Promise<void> {
  const metrics = flags.metrics?.flatMap((m) => m.split(',')).map((m) => m.trim()).filter(Boolean);
  const res = await plots({ cwd: out.cwd, runs, all: flags.all, metrics, x: flags.x, output: flags.output });
  for (const w of res.warnings) out.warn(w);
  const tty = process.stdout.isTTY === true;
  const terminal = tty ? { columns: process.stdout.columns || 80, color: !process.env.NO_COLOR } : undefined;
  out.result(res, () => plotsLines(res, { terminal, cwd: out.cwd }));
}
