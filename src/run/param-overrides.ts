import fs from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type * as Yaml from 'yaml';
import { yamlLibrary } from '../formats/yaml-library.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { badParams, badUsage, pathNotFound } from '../util/errors.js';

/** The params file an override names when it names none (as `dvc exp run -S`). */
export const DEFAULT_PARAMS_FILE = 'params.yaml';

/**
 * One `-S` override, in the grammar `dvc exp run -S` takes (Hydra's): `[file:]key.path=value` sets a
 * key that exists, `+key=value` adds one that does not, `++key=value` sets it either way, `~key`
 * removes it (`~key=value`: only if it holds that value). The value is read as YAML: `0.01` is a
 * number, `[64, 128]` a list, `'0.01'` a string.
 */
export interface ParamOverride {
  file: string;
  op: 'set' | 'add' | 'force' | 'delete';
  key: string[];
  /** The value as typed; absent for `~key`. */
  valueText?: string;
}

const PREFIXES: [string, ParamOverride['op']][] = [['++', 'force'], ['+', 'add'], ['~', 'delete']];

/** Parses `-S [file:]override`; the file is returned as typed (params.yaml when none). */
export function parseOverride(spec: string): ParamOverride {
  const malformed = (why: string) => badUsage(`-S ${spec}: ${why} (expected [file:]key=value, e.g. -S params.yaml:train.lr=0.01)`);
  const eq = spec.indexOf('=');
  const lhs = eq < 0 ? spec : spec.slice(0, eq);
  const colon = lhs.lastIndexOf(':');
  const file = colon < 0 ? DEFAULT_PARAMS_FILE : lhs.slice(0, colon);
  if (file === '') throw malformed('no file before :');
  let keyText = lhs.slice(colon + 1);
  let op: ParamOverride['op'] = 'set';
  for (const [prefix, o] of PREFIXES) {
    if (keyText.startsWith(prefix)) {
      op = o;
      keyText = keyText.slice(prefix.length);
      break;
    }
  }
  const key = keyText.split('.');
  if (keyText.trim() === '' || key.some((k) => k === '' || k.trim() !== k)) throw malformed(keyText === '' ? 'no key' : `bad key ${JSON.stringify(keyText)}`);
  if (eq < 0) {
    if (op === 'delete') return { file, op, key };
    throw malformed('no = value');
  }
  const valueText = spec.slice(eq + 1);
  if (valueText.trim() === '') throw malformed(`no value after = (an empty string is ${keyText}='', null is ${keyText}=null)`);
  parseValue(valueText, spec);
  return { file, op, key, valueText };
}

/** The override as recorded: `file:[+|++|~]key.path[=value]`. */
export function overrideText(o: ParamOverride): string {
  const prefix = { set: '', add: '+', force: '++', delete: '~' }[o.op];
  return `${o.file}:${prefix}${o.key.join('.')}${o.valueText === undefined ? '' : `=${o.valueText}`}`;
}

function parseValue(text: string, spec: string): unknown {
  try {
    return yamlLibrary().parse(text);
  } catch (err) {
    throw badUsage(`-S ${spec}: the value is not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
}

/** A params document seen as a tree of maps, whatever holds it (plain values or a YAML document keeping its comments). */
interface ParamsTree {
  /** `map` for a map, `value` for anything else, `missing` when absent. */
  kind(path: string[]): 'map' | 'value' | 'missing';
  get(path: string[]): unknown;
  set(path: string[], value: unknown): void;
  delete(path: string[]): void;
}

/**
 * How overrides apply: as given (`new`), or `again` as recorded by a run, to a file that run may
 * already have changed: then `+key` sets a key that now exists and `~key` passes over one already gone.
 */
export type OverrideMode = 'new' | 'again';

/** Applies overrides in order; an override that cannot apply is EBADPARAMS naming it. */
function applyTo(tree: ParamsTree, file: string, overrides: ParamOverride[], mode: OverrideMode): void {
  for (const o of overrides) {
    const spec = overrideText(o);
    const key = o.key.join('.');
    if (tree.kind([]) !== 'map') throw badParams(`-S ${spec}: ${file} does not hold a map of params`, { file, key });
    for (let i = 1; i < o.key.length; i++) {
      const kind = tree.kind(o.key.slice(0, i));
      if (kind === 'missing') break;
      if (kind === 'value') throw badParams(`-S ${spec}: ${o.key.slice(0, i).join('.')} in ${file} is a value, not a map`, { file, key });
    }
    const exists = tree.kind(o.key) !== 'missing';
    const value = o.valueText === undefined ? undefined : parseValue(o.valueText, spec);
    if (o.op === 'set' && !exists) {
      throw badParams(`-S ${spec}: ${file} has no key ${key}`, { hint: `add it with -S ${file}:+${key}=${o.valueText} (as with dvc exp run -S)`, file, key });
    }
    if (o.op === 'add' && exists && mode === 'new') throw badParams(`-S ${spec}: ${file} already has ${key}`, { hint: `set it with -S ${file}:${key}=${o.valueText} or ${file}:++${key}=...`, file, key });
    if (o.op === 'delete') {
      if (!exists && mode === 'again') continue;
      if (!exists) throw badParams(`-S ${spec}: ${file} has no key ${key} to remove`, { file, key });
      const now = tree.get(o.key);
      if (o.valueText !== undefined && !isDeepStrictEqual(now, value)) throw badParams(`-S ${spec}: ${key} in ${file} is ${JSON.stringify(now)}, not ${JSON.stringify(value)}`, { file, key });
      tree.delete(o.key);
    } else {
      tree.set(o.key, value);
    }
  }
}

/** A tree over plain parsed values (JSON, or YAML read as values); edits the values in place. */
function plainTree(holder: { doc: unknown }): ParamsTree {
  const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const at = (path: string[]): { found: boolean; value?: unknown } => {
    let cur: unknown = holder.doc;
    for (const k of path) {
      if (!isMap(cur) || !Object.hasOwn(cur, k)) return { found: false };
      cur = cur[k];
    }
    return { found: true, value: cur };
  };
  return {
    kind: (path) => {
      const r = at(path);
      return !r.found ? 'missing' : isMap(r.value) ? 'map' : 'value';
    },
    get: (path) => at(path).value,
    set: (path, value) => {
      let cur = holder.doc as Record<string, unknown>;
      for (const k of path.slice(0, -1)) {
        if (!isMap(cur[k])) cur[k] = {};
        cur = cur[k] as Record<string, unknown>;
      }
      cur[path.at(-1)!] = value;
    },
    delete: (path) => {
      delete (at(path.slice(0, -1)).value as Record<string, unknown>)[path.at(-1)!];
    },
  };
}

/** A tree over a YAML document: edits keep the file's comments, key order and the style of untouched lines. */
function yamlTree(doc: Yaml.Document): ParamsTree {
  const Y = yamlLibrary();
  return {
    kind: (path) => {
      const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
      if (path.length > 0 && !doc.hasIn(path)) return 'missing';
      return Y.isMap(node) ? 'map' : 'value';
    },
    get: (path) => {
      const node = doc.getIn(path, true);
      return Y.isNode(node) ? node.toJSON() : node;
    },
    set: (path, value) => {
      const node = doc.createNode(value);
      const old = doc.hasIn(path) ? doc.getIn(path, true) : undefined;
      // The new value keeps the old one's comments, and a list or map its flow style.
      if (Y.isNode(old)) Object.assign(node, { comment: old.comment, commentBefore: old.commentBefore, spaceBefore: old.spaceBefore });
      if (Y.isCollection(old) && Y.isCollection(node)) node.flow = old.flow;
      doc.setIn(path, node);
    },
    delete: (path) => {
      doc.deleteIn(path);
    },
  };
}

/** Reads a params file's text; a missing file is EPATHNOTFOUND. */
function readText(absFile: string, relFile: string): string {
  try {
    return fs.readFileSync(absFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw pathNotFound(`params file ${relFile} does not exist`, { path: relFile });
    throw err;
  }
}

function notValid(relFile: string, err: unknown) {
  return badParams(`params file ${relFile} is not valid ${relFile.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`, { file: relFile });
}

/** The params document with the overrides applied in memory (for reading, e.g. whether a run is stale). */
export function withOverrides(doc: unknown, relFile: string, overrides: ParamOverride[], mode: OverrideMode = 'new'): unknown {
  if (overrides.length === 0) return doc;
  const holder = { doc: structuredClone(doc ?? {}) };
  applyTo(plainTree(holder), relFile, overrides, mode);
  return holder.doc;
}

/**
 * Applies overrides to a params file in memory and returns the write that puts them on disk (atomic),
 * or undefined when the file would not change. All overrides of a run are checked this way before
 * any file is written, so one that cannot apply leaves every file as it was. As `dvc exp run -S`
 * does, the file is then left with the values the run used; a YAML file keeps its comments and the
 * lines not overridden.
 */
export function planOverrides(absFile: string, relFile: string, overrides: ParamOverride[], mode: OverrideMode = 'new'): (() => void) | undefined {
  if (overrides.length === 0) return undefined;
  const text = readText(absFile, relFile);
  let out: string;
  if (relFile.endsWith('.json')) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw notValid(relFile, err);
    }
    const holder = { doc };
    applyTo(plainTree(holder), relFile, overrides, mode);
    const indent = /^[{[]\r?\n([ \t]+)/.exec(text)?.[1] ?? '  ';
    out = `${JSON.stringify(holder.doc, null, indent)}\n`;
  } else {
    const doc = yamlLibrary().parseDocument(text);
    if (doc.errors.length) throw notValid(relFile, doc.errors[0]);
    if (doc.contents === null) doc.contents = doc.createNode({}) as unknown as Yaml.ParsedNode;
    applyTo(yamlTree(doc), relFile, overrides, mode);
    out = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  }
  if (out === text) return undefined;
  return () => {
    // Through a symlink to the file it names, with the file's own mode: only the content changes.
    const target = fs.realpathSync(absFile);
    writeFileAtomicSync(target, out, { mode: fs.statSync(target).mode & 0o7777 });
  };
}
