import fs from 'node:fs';
import path from 'node:path';
import ignoreModule, { type Ignore } from 'ignore';
import { isErrno } from '../util/errors.js';

/** The name of an ignore file: gitignore syntax, rules relative to the folder it is in. */
export const IGNORE_FILE = '.mlxignore';

/**
 * What mlx never stores inside a tracked directory unless a `.mlxignore` re-includes it (`!name`):
 * interpreter caches, notebook checkpoints, and the litter editors and operating systems leave beside
 * files. Written as gitignore rules (spec/workspace.md); {@link ignoredByDefault} decides the same
 * by looking at one name, which is what a walk of a million files can afford.
 */
export const DEFAULT_IGNORES: readonly string[] = [
  '__pycache__/',
  '.ipynb_checkpoints/',
  '.DS_Store',
  '._*',
  'Thumbs.db',
  'desktop.ini',
  '.*.swp',
  '.*.swo',
  '.#*',
  '*~',
];

/** Whether {@link DEFAULT_IGNORES} ignore an entry called `name` (a folder when `isDir`). */
export function ignoredByDefault(name: string, isDir: boolean): boolean {
  const first = name.charCodeAt(0);
  if (name.charCodeAt(name.length - 1) === 0x7e /* ~ */) return true;
  if (first === 0x2e /* . */) {
    const second = name.charCodeAt(1);
    if (second === 0x5f /* _ */ || second === 0x23 /* # */) return true; // ._* (AppleDouble), .#* (Emacs locks)
    if (name === '.DS_Store' || (isDir && name === '.ipynb_checkpoints')) return true;
    // Vim swap files, `.name.swp`: `.swp` alone is too short to be `.` + `*` + `.swp`.
    return name.length >= 5 && (name.endsWith('.swp') || name.endsWith('.swo'));
  }
  if (first === 0x5f /* _ */) return isDir && name === '__pycache__';
  return name === 'Thumbs.db' || name === 'desktop.ini';
}

/** One `.mlxignore`: its rules, and the folder (repository-relative, '' for the root) they are relative to. */
interface Layer {
  dir: string;
  rules: Ignore;
}

/**
 * The ignore rules in force in one folder of the work tree: the built-in defaults, then every
 * `.mlxignore` from the repository root down to that folder, a deeper file overriding a shallower
 * one as in git (within a file, the last matching rule decides). A walk asks {@link enter} for the
 * rules of each sub-folder; one without a `.mlxignore` shares its parent's.
 */
export class IgnoreRules {
  private constructor(
    private readonly root: string,
    /** Deepest last. */
    private readonly layers: readonly Layer[],
    /** The text of every layer with its folder: part of a directory's fingerprint. */
    readonly identity: string,
  ) {}

  /**
   * The rules that apply to entries of the folder `rel` (repository-relative, '' for the root) from
   * the folders above it; the folder's own `.mlxignore` is added by {@link enter}, as for any folder a
   * walk reaches.
   */
  static above(root: string, rel: string): IgnoreRules {
    let rules = new IgnoreRules(root, [], '');
    if (rel === '') return rules;
    const segs = rel.split('/');
    for (let i = 0; i < segs.length; i++) {
      const dir = segs.slice(0, i).join('/');
      rules = rules.withFileIn(dir);
    }
    return rules;
  }

  /**
   * The rules for the entries of folder `dir` (repository-relative), whose names are `names`: these,
   * plus the folder's own `.mlxignore` when it has one.
   */
  enter(dir: string, names: readonly string[]): IgnoreRules {
    if (names.includes(IGNORE_FILE)) return this.withFileIn(dir);
    if (this.layers.length === 0) return this;
    // The package remembers the verdict on every path it was asked about: one matcher per folder (made
    // from the same compiled rules) lets those answers go with the folder, not pile up over a whole walk.
    return new IgnoreRules(this.root, this.layers.map(({ dir: at, rules }) => ({ dir: at, rules: newMatcher().add(rules) })), this.identity);
  }

  /** Whether any `.mlxignore` is in force (else only the defaults, see {@link ignoredByDefault}). */
  get hasFiles(): boolean {
    return this.layers.length > 0;
  }

  /** Whether the rules ignore the entry `rel` (repository-relative) called `name`, a folder when `isDir`. */
  ignores(rel: string, name: string, isDir: boolean): boolean {
    // Deepest file first: the first that has a rule matching the entry (either way) decides.
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const layer = this.layers[i]!;
      const sub = layer.dir === '' ? rel : rel.slice(layer.dir.length + 1);
      const verdict = layer.rules.test(isDir ? `${sub}/` : sub);
      if (verdict.ignored) return true;
      if (verdict.unignored) return false;
    }
    return ignoredByDefault(name, isDir);
  }

  /** Whether the repository-relative path `rel` or a folder it lies in is ignored: what `mlx add` refuses. */
  static ignoresPath(root: string, rel: string, isDir: boolean): boolean {
    const segs = rel.split('/');
    let rules = new IgnoreRules(root, [], '');
    for (let i = 0; i < segs.length; i++) {
      const dir = segs.slice(0, i).join('/');
      rules = rules.withFileIn(dir);
      const here = segs.slice(0, i + 1).join('/');
      if (rules.ignores(here, segs[i]!, i < segs.length - 1 || isDir)) return true;
    }
    return false;
  }

  private withFileIn(dir: string): IgnoreRules {
    const text = readIgnoreFile(path.join(this.root, ...(dir === '' ? [] : dir.split('/')), IGNORE_FILE));
    if (text === undefined) return this;
    const layer = { dir, rules: newMatcher().add(text) };
    return new IgnoreRules(this.root, [...this.layers, layer], `${this.identity}${dir}\0${text}\0`);
  }
}

/**
 * An empty matcher. Case matters, as in git on Linux (core.ignoreCase false). The package is
 * CommonJS: its factory is also its own `default`, which is what both Node and the bundle see.
 */
function newMatcher(): Ignore {
  return ignoreModule.default({ ignorecase: false });
}

/** The text of an ignore file, or undefined when there is none (or a folder has its name). */
function readIgnoreFile(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) return undefined;
    throw err;
  }
}
