import { badUsage } from '../util/errors.js';

/** `-j`: a whole number of parallel transfers from 1 to 256. */
export function parseJobs(jobs: string | undefined): number | undefined {
  if (jobs === undefined) return undefined;
  const n = Number(jobs);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw badUsage(`-j expects a whole number from 1 to 256, got ${jobs}`);
  return n;
}

/** A count flag such as `--last` or `--days`: a number of at least 0. */
export function parseCount(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw badUsage(`${flag} expects a number of at least 0, got ${v}`);
  return n;
}

/** `-o key=value` options of `remote add`. */
export function parseKeyValues(pairs: string[] | undefined): Record<string, string> {
  const options: Record<string, string> = {};
  for (const kv of pairs ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw badUsage(`option ${JSON.stringify(kv)} must look like key=value`);
    options[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return options;
}
