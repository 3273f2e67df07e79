import fs from 'node:fs';
import path from 'node:path';
import { compareUtf8, isDotName } from '../util/paths.js';

/**
 * The fields of a file's stat that mlx uses. A walk keeps this small record, not the `fs.Stats`
 * (which in Node 20 carries four Date objects): 20,000 retained `Stats` made status spend more time
 * in garbage collection than in `lstat`.
 */
export type FileStat = Pick<fs.Stats, 'size' | 'mtimeMs' | 'ctimeMs' | 'ino' | 'mode' | 'nlink' | 'dev'>;

/** The `FileStat` part of a full stat. */
export function fileStat(st: FileStat): FileStat {
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode, nlink: st.nlink, dev: st.dev };
}

export type Scanned =
  | { kind: 'file'; rel: string; stat: FileStat }
  | { kind: 'link'; rel: string; target: string }
  | { kind: 'emptydir'; rel: string };

/** What a directory walk found, plus what it skipped and why. */
export interface ScanResult {
  entries: Scanned[];
  skipped: { rel: string; why: string }[];
}

/**
 * Walks a directory synchronously (faster than promises for many small files), without following
 * symlinks. Nested `.git` folders and files (and names git takes for `.git`) are skipped: they belong
 * to another repository.
 */
export function scanTree(absRoot: string): ScanResult {
  const entries: Scanned[] = [];
  const skipped: { rel: string; why: string }[] = [];
  const walk = (absDir: string, relDir: string) => {
    const names = fs.readdirSync(absDir, { withFileTypes: true });
    if (names.length === 0 && relDir !== '') {
      entries.push({ kind: 'emptydir', rel: relDir });
      return;
    }
    for (const d of names) {
      const rel = relDir === '' ? d.name : `${relDir}/${d.name}`;
      const abs = path.join(absDir, d.name);
      if (isDotName(d.name, 'git')) {
        // A nested repository (a folder, or a submodule's `.git` file), or a name git takes for one:
        // no manifest may hold it (spec/paths.md).
        skipped.push({ rel, why: d.name === '.git' ? 'nested git repository' : 'a name git treats as .git' });
        continue;
      }
      if (d.isDirectory()) {
        walk(abs, rel);
      } else if (d.isFile()) {
        entries.push({ kind: 'file', rel, stat: fileStat(fs.lstatSync(abs)) });
      } else if (d.isSymbolicLink()) {
        entries.push({ kind: 'link', rel, target: fs.readlinkSync(abs) });
      } else {
        skipped.push({ rel, why: 'not a regular file, directory or symlink' });
      }
    }
  };
  walk(absRoot, '');
  entries.sort((a, b) => compareUtf8(a.rel, b.rel));
  return { entries, skipped };
}
