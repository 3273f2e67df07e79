import { compareUtf8 } from '../util/paths.js';

/*
 * Package lockfiles as mlx knows them: which file names are lockfiles (captured with a run's
 * environment) and, for the formats it can read, the packages and versions they pin, so that two
 * environments can be compared package by package.
 */

/** Lockfiles by exact name; `requirements*.txt` and the `.txt` files of a `requirements/` folder too. */
const LOCKFILE_NAMES = new Set([
  'uv.lock', 'poetry.lock', 'Pipfile.lock', 'environment.yml', 'environment.yaml', 'conda-lock.yml',
  'package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'Cargo.lock',
]);

/** Whether a file is a package lockfile; `inRequirementsDir`: it lies in a folder named `requirements`. */
export function isLockfileName(name: string, inRequirementsDir: boolean): boolean {
  return LOCKFILE_NAMES.has(name) || /^requirements.*\.txt$/.test(name) || (inRequirementsDir && name.endsWith('.txt'));
}

/** The lockfile formats whose packages can be listed. */
export type PackageFormat = 'pip' | 'conda' | 'npm' | 'pipfile' | 'toml';

/** The format of the lockfile at `p` (by its name), or undefined when its packages cannot be listed. */
export function kindOfLockfile(p: string): PackageFormat | undefined {
  const name = p.slice(p.lastIndexOf('/') + 1);
  if (name.endsWith('.txt')) return 'pip';
  if (name === 'environment.yml' || name === 'environment.yaml') return 'conda';
  if (name === 'package-lock.json') return 'npm';
  if (name === 'Pipfile.lock') return 'pipfile';
  if (name === 'uv.lock' || name === 'poetry.lock' || name === 'Cargo.lock') return 'toml';
  return undefined; // yarn.lock, pnpm-lock.yaml, conda-lock.yml: the oid change is reported alone
}

/** name → version (several versions of one name joined with `, `); undefined when the text does not parse. */
export function parsePackages(format: PackageFormat, text: string): Map<string, string> | undefined {
  const found = new Map<string, Set<string>>();
  const add = (name: string, version: string) => {
    let set = found.get(name);
    if (!set) found.set(name, (set = new Set()));
    set.add(version);
  };
  try {
    if (format === 'pip') parsePipLines(text.split('\n'), add);
    else if (format === 'conda') parseCondaYaml(text, add);
    else if (format === 'npm') parsePackageLock(text, add);
    else if (format === 'pipfile') parsePipfileLock(text, add);
    else parseTomlPackages(text, add);
  } catch {
    return undefined; // not the format its name promises: report the oid change only
  }
  return new Map([...found].map(([name, versions]) => [name, [...versions].sort(compareUtf8).join(', ')]));
}

type Add = (name: string, version: string) => void;

/** PEP 503 name normalisation, so `Foo_Bar` and `foo-bar` are one package. */
function pipName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** `name==version`, `name @ url`, `name>=1,<2` lines; options, editables, URLs and comments are skipped. */
function parsePipLines(lines: string[], add: Add): void {
  for (const raw of lines) {
    const line = raw
      .replace(/(^|\s)#.*$/, '')
      .replace(/\s*\\$/, '')
      .split(/\s+--/)[0]!
      .split(';')[0]!
      .trim();
    if (!line || line.startsWith('-')) continue;
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([=<>!~@].*)?$/.exec(line);
    if (!m) continue;
    let spec = (m[2] ?? '').trim();
    if (spec.startsWith('===')) spec = spec.slice(3);
    else if (spec.startsWith('==')) spec = spec.slice(2);
    else if (spec.startsWith('@')) spec = spec.slice(1);
    add(pipName(m[1]!), spec.trim());
  }
}

/** The `dependencies:` list of a conda environment file (`name=version=build`), with its `pip:` sub-list. */
function parseCondaYaml(text: string, add: Add): void {
  const { conda, pip } = condaDependencies(text);
  for (const item of conda) {
    const c = /^((?:[^\s=<>!~:]+::)?[^\s=<>!~:]+)\s*([=<>!~].*)?$/.exec(item);
    if (!c) continue;
    let spec = (c[2] ?? '').trim();
    if (spec.startsWith('==')) spec = spec.slice(2);
    else if (spec.startsWith('=')) spec = spec.slice(1);
    add(c[1]!.toLowerCase(), spec);
  }
  parsePipLines(pip, (name, version) => add(`pip:${name}`, version));
}

/** The items of a conda environment file's `dependencies:` list, and those of its `- pip:` sub-list (unquoted). */
function condaDependencies(text: string): { conda: string[]; pip: string[] } {
  const conda: string[] = [];
  const pip: string[] = [];
  let inDeps = false;
  /** Column of the `- pip:` item while reading its sub-list, else -1. */
  let pipIndent = -1;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) {
      inDeps = /^dependencies\s*:/.test(line);
      pipIndent = -1;
      continue;
    }
    const m = inDeps ? /^(\s*)-\s+(.+?)\s*$/.exec(line) : null;
    if (!m) continue;
    const indent = m[1]!.length;
    const item = m[2]!;
    if (pipIndent >= 0 && indent > pipIndent) {
      pip.push(item.replace(/^(["'])(.*)\1$/, '$2'));
      continue;
    }
    pipIndent = /^pip\s*:$/.test(item) ? indent : -1;
    if (pipIndent < 0) conda.push(item);
  }
  return { conda, pip };
}

function parsePackageLock(text: string, add: Add): void {
  const lock = JSON.parse(text) as { packages?: Record<string, { version?: string }>; dependencies?: Record<string, { version?: string }> };
  if (lock.packages) {
    for (const [key, info] of Object.entries(lock.packages)) {
      if (key !== '' && typeof info?.version === 'string') add(key.replace(/^node_modules\//, ''), info.version);
    }
    return;
  }
  for (const [name, info] of Object.entries(lock.dependencies ?? {})) if (typeof info?.version === 'string') add(name, info.version);
}

function parsePipfileLock(text: string, add: Add): void {
  const lock = JSON.parse(text) as Record<string, Record<string, { version?: string }>>;
  for (const section of ['default', 'develop']) {
    for (const [name, info] of Object.entries(lock[section] ?? {})) {
      if (typeof info?.version === 'string') add(pipName(name), info.version.replace(/^===?/, ''));
    }
  }
}

/** `[[package]]` tables with `name = "..."` and `version = "..."` before any sub-table. */
function parseTomlPackages(text: string, add: Add): void {
  for (const chunk of text.split(/^\[\[package\]\]\s*$/m).slice(1)) {
    const head = chunk.split(/^\[/m)[0]!;
    const name = /^name\s*=\s*"([^"]+)"/m.exec(head)?.[1];
    const version = /^version\s*=\s*"([^"]+)"/m.exec(head)?.[1];
    if (name) add(name, version ?? '');
  }
}

/**
 * The lockfile's packages as pip requirement lines that pin them: a requirements file's own lines
 * (comments and blank lines dropped), `name==version` for each `[[package]]` of uv.lock/poetry.lock
 * and the `default` section of Pipfile.lock (the project itself and other local folders left out: they
 * are not installable by name), the `pip:` sub-list of a conda environment file. Undefined for formats
 * that list no Python packages or text that does not parse.
 */
export function pipRequirements(format: PackageFormat, text: string): string[] | undefined {
  try {
    if (format === 'pip') return requirementLines(text);
    if (format === 'toml') return tomlPins(text);
    if (format === 'pipfile') {
      const lock = JSON.parse(text) as { default?: Record<string, { version?: string }> };
      return Object.entries(lock.default ?? {})
        .filter(([, info]) => typeof info?.version === 'string')
        .map(([name, info]) => `${name}==${info.version!.replace(/^===?/, '')}`)
        .sort(compareUtf8);
    }
    if (format === 'conda') return condaDependencies(text).pip;
  } catch {
    return undefined; // not the format its name promises
  }
  return undefined;
}

/** Requirement lines of a requirements file or pip freeze: continuation lines joined, comments dropped. */
export function requirementLines(text: string): string[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l !== '');
}

function tomlPins(text: string): string[] {
  const pins: string[] = [];
  for (const chunk of text.split(/^\[\[package\]\]\s*$/m).slice(1)) {
    const head = chunk.split(/^\[/m)[0]!;
    const name = /^name\s*=\s*"([^"]+)"/m.exec(head)?.[1];
    const version = /^version\s*=\s*"([^"]+)"/m.exec(head)?.[1];
    // uv marks the project and path dependencies as editable/virtual/directory sources; poetry as `[package.source] type = "directory"`.
    const local = /^source\s*=\s*\{\s*(?:editable|virtual|directory|path)\s*=/m.test(head) || /^\[package\.source\][^[]*^type\s*=\s*"(?:directory|file)"/m.test(chunk);
    if (name && version && !local) pins.push(`${name}==${version}`);
  }
  return [...new Set(pins)].sort(compareUtf8);
}

