import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { redactUrl, urlHasCredentials } from '../formats/config.js';
import { badConfig } from '../util/errors.js';
import { DirRemote } from './dir-remote.js';
import type { Remote } from './remote.js';
import type { S3RemoteOptions } from './s3-remote.js';

export type RemoteOptionValue = string | boolean | number;

/** How one option's value is read: its type and, for some, the values it may take. */
type OptionRule =
  | { kind: 'string' }
  | { kind: 'url' }
  | { kind: 'boolean' }
  | { kind: 'integer'; min?: number; max?: number }
  | { kind: 'enum'; values: readonly string[] };

const STRING: OptionRule = { kind: 'string' };
const COUNT: OptionRule = { kind: 'integer', min: 0 };
const POSITIVE: OptionRule = { kind: 'integer', min: 1 };

/** The options an S3 remote accepts, by canonical name. */
const S3_OPTIONS: Record<string, OptionRule> = {
  endpoint: { kind: 'url' },
  region: STRING,
  forcePathStyle: { kind: 'boolean' },
  profile: STRING,
  accessKeyId: STRING,
  secretAccessKey: STRING,
  sessionToken: STRING,
  checksums: { kind: 'enum', values: ['when_required', 'when_supported'] },
  maxAttempts: POSITIVE,
  retryBaseMs: COUNT,
  connectTimeoutMs: COUNT,
  socketTimeoutMs: COUNT,
  pageSize: { kind: 'integer', min: 1, max: 1000 },
  multipartThreshold: COUNT,
  partSize: POSITIVE,
  partConcurrency: POSITIVE,
  caBundle: STRING,
  sse: { kind: 'enum', values: ['AES256', 'aws:kms', 'aws:kms:dsse'] },
  sseKmsKeyId: STRING,
  // GLACIER and DEEP_ARCHIVE objects cannot be read without a restore: mlx reads back what it
  // writes (indexes, packs), so those classes are refused rather than failing at the next pull.
  storageClass: { kind: 'enum', values: ['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR', 'EXPRESS_ONEZONE', 'OUTPOSTS'] },
  acl: { kind: 'enum', values: ['private', 'public-read', 'public-read-write', 'authenticated-read', 'aws-exec-read', 'bucket-owner-read', 'bucket-owner-full-control'] },
};

/** What a remote url and its options describe, checked but not opened. */
export type RemoteSpec = { kind: 's3'; options: S3RemoteOptions } | { kind: 'dir'; root: string };

/**
 * Checks a remote's url and options without opening it or touching the network, so a config is
 * refused before it is written (`remote add`, `remote modify`) rather than at the next push:
 * - `s3://bucket[/prefix]` → S3 (options: see {@link S3RemoteOptions}; names may be written
 *   camelCase, snake_case or kebab-case, values as strings from a config file);
 * - `file:///abs/path`, an absolute path, or a path relative to `baseDir` → a directory (no options).
 * Anything else, an unknown option or a value of the wrong kind is an `E.BAD_CONFIG` error.
 */
export function parseRemoteSpec(url: string, options: Record<string, RemoteOptionValue>, baseDir: string): RemoteSpec {
  refuseCredentials(url, options);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme === 's3') return { kind: 's3', options: parseS3Url(url, parseOptions(url, options, S3_OPTIONS)) };
  if (scheme === 'file') {
    let dir: string;
    try {
      dir = fileURLToPath(url);
    } catch (err) {
      throw badConfig(`remote url ${url} is not a valid file:// url: ${(err as Error).message}`, { hint: 'write it as file:///absolute/path' });
    }
    parseOptions(url, options, {});
    return { kind: 'dir', root: dir };
  }
  if (scheme !== undefined || url.trim() === '') {
    throw badConfig(`remote url ${JSON.stringify(url)} is not supported`, {
      hint: 'use s3://bucket/prefix, file:///path, or a directory path',
      url,
    });
  }
  parseOptions(url, options, {});
  return { kind: 'dir', root: directoryOf(url, baseDir) };
}

/**
 * The directory a url without a scheme names. A path that says it is one (absolute, `./`, `../`, `~/`)
 * may be created; a bare relative name (`bucket/p`, `backup`) must already exist, since it is more
 * often an S3 url without its `s3://` than a folder meant inside the repository. A quoted `~` reaches
 * mlx unexpanded: it is the home directory, never a folder named `~`.
 */
function directoryOf(url: string, baseDir: string): string {
  const expanded = expandHome(url);
  if (expanded !== url || path.isAbsolute(url) || /^\.\.?([/\\]|$)/.test(url)) return path.resolve(baseDir, expanded);
  const root = path.resolve(baseDir, url);
  if (!fs.existsSync(root)) {
    throw badConfig(`remote url ${JSON.stringify(url)} has no scheme and is not an existing directory`, {
      hint: `for S3 write s3://${url.replace(/^\/+/, '')}; for a new directory write ./${url} or an absolute path`,
      url,
    });
  }
  return root;
}

/** `~` and `~/x` as the shell would expand them; `~user` is refused rather than taken as a folder name. */
export function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  if (p.startsWith('~')) throw badConfig(`path ${JSON.stringify(p)}: only ~ and ~/ are expanded`, { hint: 'write the path in full' });
  return p;
}

/** mlx never reads credentials from a url, and a url is written into the config and printed: refuse them there. */
const CREDENTIALS_HINT =
  'give credentials through the AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or -o profile=NAME), or as access_key_id/secret_access_key in the --local config';

function refuseCredentials(url: string, options: Record<string, RemoteOptionValue>): void {
  if (urlHasCredentials(url)) {
    throw badConfig(`remote url ${redactUrl(url)} holds credentials (user:secret@); refusing to store or use them`, {
      hint: CREDENTIALS_HINT,
      url: redactUrl(url),
    });
  }
  for (const [name, value] of Object.entries(options)) {
    if (typeof value === 'string' && urlHasCredentials(value)) {
      throw badConfig(`remote ${redactUrl(url)}: option ${name} holds credentials (${redactUrl(value)}); refusing to store or use them`, {
        hint: CREDENTIALS_HINT,
        url: redactUrl(url),
        option: name,
      });
    }
  }
}

/** The canonical name of an option (`force_path_style`, `force-path-style` → `forcePathStyle`). */
export function canonicalOptionName(name: string): string {
  return name.replace(/[-_]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Opens the backend a remote url and its options describe (checked by {@link parseRemoteSpec}). */
export async function openRemote(url: string, options: Record<string, RemoteOptionValue>, baseDir: string): Promise<Remote> {
  const spec = parseRemoteSpec(url, options, baseDir);
  if (spec.kind === 'dir') return new DirRemote(spec.root, url);
  const { S3Remote } = await import('./s3-remote.js');
  // A relative CA bundle is the repository's file, as a relative directory remote is.
  const caBundle = spec.options.caBundle;
  return new S3Remote(caBundle === undefined ? spec.options : { ...spec.options, caBundle: path.resolve(baseDir, expandHome(caBundle)) }, url);
}

function parseS3Url(url: string, options: Partial<S3RemoteOptions>): S3RemoteOptions {
  const m = /^s3:\/\/([^/]+)\/*(.*)$/i.exec(url);
  const bucket = m?.[1];
  if (!m || !bucket) throw badConfig(`remote url ${url} names no bucket`, { hint: 'write it as s3://bucket/optional/prefix' });
  const prefix = m[2]!.replace(/\/+$/, '');
  if (prefix.split('/').some((seg) => seg === '.' || seg === '..') || prefix.includes('//')) {
    throw badConfig(`remote url ${url} has an invalid prefix`, { hint: 'use a prefix like s3://bucket/some/prefix' });
  }
  if (options.sseKmsKeyId !== undefined && options.sse === 'AES256') {
    throw badConfig(`remote ${url}: sse_kms_key_id needs sse=aws:kms (or aws:kms:dsse), not AES256`, { url, option: 'sse_kms_key_id' });
  }
  if (options.caBundle !== undefined) expandHome(options.caBundle);
  return { ...options, bucket, prefix };
}

function parseOptions(url: string, options: Record<string, RemoteOptionValue>, known: Record<string, OptionRule>): Record<string, string | boolean | number> {
  const out: Record<string, string | boolean | number> = {};
  for (const [rawName, value] of Object.entries(options)) {
    const name = canonicalOptionName(rawName);
    const rule = known[name];
    if (!rule) {
      const names = Object.keys(known);
      throw badConfig(`remote ${url}: unknown option ${rawName}`, {
        hint: names.length ? `known options: ${names.join(', ')}` : 'this kind of remote takes no options',
        url,
        option: rawName,
      });
    }
    out[name] = coerce(url, rawName, rule, value);
  }
  return out;
}

function coerce(url: string, name: string, rule: OptionRule, value: RemoteOptionValue): string | boolean | number {
  const bad = (want: string) => badConfig(`remote ${url}: option ${name} must be ${want}, got ${JSON.stringify(value)}`, { url, option: name });
  switch (rule.kind) {
    case 'string':
      if (typeof value !== 'string' || value === '') throw bad('a non-empty string');
      return value;
    case 'url':
      if (typeof value !== 'string' || !isHttpUrl(value)) throw bad('an http:// or https:// url');
      return value;
    case 'enum':
      if (typeof value !== 'string' || !rule.values.includes(value)) throw bad(rule.values.join(' or '));
      return value;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && ['true', 'yes', '1', 'on'].includes(value.toLowerCase())) return true;
      if (typeof value === 'string' && ['false', 'no', '0', 'off'].includes(value.toLowerCase())) return false;
      throw bad('true or false');
    case 'integer': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
      const min = rule.min ?? 0;
      if (!Number.isSafeInteger(n) || n < min || (rule.max !== undefined && n > rule.max)) {
        throw bad(rule.max !== undefined ? `a whole number from ${min} to ${rule.max}` : min > 0 ? `a whole number of at least ${min}` : 'a whole number');
      }
      return n;
    }
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false; // new URL throws only on what is no url
  }
}
