import type { EnvRecord } from '../formats/env-record.js';
import type { Oid } from '../hash/oid.js';
import type { ObjectStore } from '../store/object-store.js';
import { diffEnvironments, storeBlobReader, type EnvChange } from './env-diff.js';
import { captureEnvironment, readEnvRecord } from './environment.js';

/** Top-level fields a version 1 record never had: their absence there says nothing about the machine. */
const SINCE_V2 = ['compilers', 'gpu_libs', 'device_env', 'python_env', 'distributed', 'container.image'];

export interface EnvCheck {
  /** The recorded environment. */
  recorded: Oid;
  /** This machine's environment now (stored in the cache, so `mlx env show` and `env diff` can name it). */
  current: Oid;
  /** What differs, recorded → now, fields and packages as `mlx env diff` lists them. */
  changes: EnvChange[];
  same: boolean;
  /** Probes that failed just now, so the current side lacks what they would have added. */
  warnings: string[];
}

/**
 * Captures this machine's environment from `env` (default `repo.env`, else `process.env`; for a run, the
 * variables as its record saw them: see environmentToRecord) and compares it with a recorded one, package
 * by package where the blobs are in the cache. The record's version is not a difference, nor are fields it
 * could not hold.
 */
export async function checkEnvironment(repo: { root: string; store: ObjectStore; env?: NodeJS.ProcessEnv }, recorded: Oid, env: NodeJS.ProcessEnv = repo.env ?? process.env): Promise<EnvCheck> {
  const record = readEnvRecord(repo.store, recorded);
  const now = await captureEnvironment({ root: repo.root, store: repo.store, env });
  const changes = diffEnvironments(record, now.record, storeBlobReader(repo.store)).filter((c) => comparable(record, c));
  return { recorded, current: now.oid, changes, same: changes.length === 0, warnings: now.warnings };
}

function comparable(record: EnvRecord, c: EnvChange): boolean {
  if (c.path === 'v') return false;
  if (record.v === 1) return !SINCE_V2.some((f) => c.path === f || c.path.startsWith(`${f}.`));
  return true;
}
