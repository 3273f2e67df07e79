import fs from 'node:fs';
import { badParams, badUsage, isErrno, pathNotFound, runFailed } from '../util/errors.js';
import { yamlLibrary } from '../formats/yaml-library.js';
import { withOverrides, type OverrideMode, type ParamOverride } from './param-overrides.js';

/**
 * Reads a params file (YAML or JSON) and returns the named keys; dotted keys reach into maps. With
 * `overrides` (of this file), the values are those the file holds once they are applied.
 */
export function readParams(absFile: string, relFile: string, keys: string[], overrides: ParamOverride[] = [], mode?: OverrideMode): Record<string, unknown> {
  const doc = withOverrides(readParamsFile(absFile, relFile), relFile, overrides, mode);
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    let cur: unknown = doc;
    for (const part of key.split('.')) {
      if (cur === null || typeof cur !== 'object' || !(part in (cur as object))) {
        throw badParams(`params file ${relFile} has no key ${key}`, { hint: `check the -p ${relFile}:${key} argument`, file: relFile, key });
      }
      cur = (cur as Record<string, unknown>)[part];
    }
    out[key] = cur;
  }
  return out;
}

/** A params file (YAML, or JSON by its `.json` name) whole, as parsed. */
export function readParamsFile(absFile: string, relFile: string): unknown {
  try {
    const text = fs.readFileSync(absFile, 'utf8');
    return relFile.endsWith('.json') ? JSON.parse(text) : yamlLibrary().parse(text);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw pathNotFound(`params file ${relFile} does not exist`, { path: relFile });
    throw badParams(`params file ${relFile} is not valid ${relFile.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`, { file: relFile });
  }
}

/** Reads a metrics file (JSON or YAML) whole. */
export function readMetrics(absFile: string, relFile: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(absFile, 'utf8');
  } catch (err) {
    if (!isErrno(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) throw err;
    throw runFailed(`the command did not write the metrics file ${relFile}`);
  }
  try {
    return relFile.endsWith('.json') ? JSON.parse(text) : yamlLibrary().parse(text);
  } catch (err) {
    throw runFailed(`metrics file ${relFile} is not valid ${relFile.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** `file:key1,key2` as given to -p. */
export function parseParamSpec(spec: string): { file: string; keys: string[] } {
  const i = spec.lastIndexOf(':');
  if (i <= 0 || i === spec.length - 1) throw badUsage(`-p ${spec}: expected file:key[,key...] (e.g. params.yaml:lr,epochs)`);
  return { file: spec.slice(0, i), keys: spec.slice(i + 1).split(',').map((k) => k.trim()).filter(Boolean) };
}

/**
 * Checkpoint metadata a run wrote for an output: `<out>.meta.json|yaml|yml` beside it, or
 * `meta.json|yaml|yml` inside an output directory. Undefined when there is none.
 */
export function readCheckpointMeta(absOut: string, relOut: string): Record<string, unknown> | undefined {
  const candidates = ['.meta.json', '.meta.yaml', '.meta.yml'].map((s) => [`${absOut}${s}`, `${relOut}${s}`]);
  for (const name of ['meta.json', 'meta.yaml', 'meta.yml']) candidates.push([`${absOut}/${name}`, `${relOut}/${name}`]);
  for (const [abs, rel] of candidates) {
    if (!fs.existsSync(abs!) || !fs.statSync(abs!).isFile()) continue;
    const meta = readMetrics(abs!, rel!);
    if (meta && typeof meta === 'object' && !Array.isArray(meta)) return meta as Record<string, unknown>;
    throw runFailed(`checkpoint metadata ${rel} must be a map (e.g. {"step": 1000, "epoch": 3})`);
  }
  return undefined;
}
