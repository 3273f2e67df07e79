import { randomBytes } from 'node:crypto';
import type { HasherFactory } from '../hash/blake3.js';
import { hashBytes } from '../hash/hash-file.js';
import { oidHex, type Oid } from '../hash/oid.js';
import { canonicalJson, runInputs, type Run } from '../formats/run-lock.js';

/*
 * A run's two names. The key names its inputs: runs of the same command on the same inputs, seed and
 * environment share it, so earlier executions can be found. The id names one execution: it is taken
 * from the run record, which holds the start time and a random nonce, so no two executions share it,
 * and being the record's oid it cannot change without the record changing.
 */

export type RunInputs = Pick<Run, 'cmd' | 'seed' | 'params' | 'deps' | 'env' | 'seeds' | 'overrides'>;

/** `k-` + 16 hex digits of the hash of the inputs' canonical JSON (as ids were before keys existed). */
export function inputKey(newHasher: HasherFactory, inputs: RunInputs): string {
  return `k-${oidHex(hashBytes(newHasher, Buffer.from(runInputs(inputs)))).slice(0, 16)}`;
}

/** The bytes of a run record: the run (without its id and record, which are derived from it), its name and a nonce. */
export function runRecordBytes(name: string, run: Omit<Run, 'id' | 'record'>, nonce: string): Buffer {
  return Buffer.from(canonicalJson({ name, nonce, ...run }));
}

/** `r-` + the first 16 hex digits of the record's oid. */
export function idOfRecord(record: Oid): string {
  return `r-${oidHex(record).slice(0, 16)}`;
}

/** 64 random bits: two executions that agree on everything else, even the millisecond, still differ. */
export function newNonce(): string {
  return randomBytes(8).toString('hex');
}
