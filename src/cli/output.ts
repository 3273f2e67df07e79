import fs from 'node:fs';
import path from 'node:path';
import { badUsage } from '../util/errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
/** How the user asked to be spoken to: global flags shared by every command. */
export interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  cwd?: string;
}

let jsonPrinted = false;
/** Whether a result document is already on stdout: then an error after it must not add a second one. */
export function jsonResultPrinted(): boolean {
  return jsonPrinted;
}

/** The one place that writes to stdout/stderr for commands. */
export class Output {
  constructor(readonly opts: GlobalOptions) {}

  get cwd(): string {
    const dir = this.opts.cwd ?? process.cwd();
    if (this.opts.cwd !== undefined && !fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
      throw badUsage(`-C ${dir}: no such directory`);
    }
    return dir;
  }

  /** Prints a command's result: JSON with --json, else the text lines (nothing with -q). */
  result(data: unknown, lines: () => string[]): void {
    if (this.opts.json) {
      process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      jsonPrinted = true;
      return;
    }
    if (this.opts.quiet) return;
    const text = lines();
    if (text.length) process.stdout.write(`${text.join('\n')}\n`);
  }

  /** Writes a page or file the user asked for by name (`--html FILE`), whole or not at all; returns its absolute path. */
  writeFile(file: string, text: string): string {
    const target = path.resolve(this.cwd, file);
    writeFileAtomicSync(target, text);
    return target;
  }

  info(line: string): void {
    if (!this.opts.quiet && !this.opts.json) process.stderr.write(`${line}\n`);
  }

  verbose(line: string): void {
    if (this.opts.verbose) process.stderr.write(`${line}\n`);
  }

  warn(line: string): void {
    process.stderr.write(`mlx: warning: ${line}\n`);
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}
