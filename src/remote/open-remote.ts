import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { E, MlxError } from '../util/errors.js';
import { DirRemote } from './dir-remote.js';
import type { Remote } from './remote.js';
import type { S3RemoteOptions } from './s3-remote.js';

export type RemoteOptionValue = string | boolean | number;

type OptionKind = 'string' | 'boolean' | 'integer';
/** The options an S3 remote accepts, by canonical name. */
const S3_OPTIONS: Record<string, OptionKind> = {
  endpoint: 'string',
  region: 'string',
  forcePathStyle: 'boolean',
  profile: 'string',
  accessKeyId: 'string',
  secretAccessKey: 'string',
  sessionToken: 'string',
  checksums: 'string',
  maxAttempts: 'integer',
  connectTimeoutMs: 'integer',
  socketTimeoutMs: 'integer',
  pageSize: 'integer',
  multipartThreshold: 'integer',
  partSize: 'integer',
  partConcurrency: 'integer',
};

/**
 * Opens the backend for a remote url:
 * - `s3://bucket[/prefix]` → S3 (options: see {@link S3RemoteOptions}; names may be written
 *   camelCase, snake_case or kebab-case, values as strings from a config file);
 * - `file:///abs/path`, an absolute path, or a path relative to `baseDir` → a directory.
 * Anything else, and any unknown option, is an `E.BAD_CONFIG` error.
 */
export async function openRemote(url: string, options: Record<string, RemoteOptionValue>, baseDir: string): Promise<Remote> {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme === 's3') {
    const { S3Remote } = await import('./s3-remote.js');
    return new S3Remote(parseS3Url(url, parseOptions(url, options, S3_OPTIONS)), url);
  }
  if (scheme === 'file') {
    let dir: string;
    try {
      dir = fileURLToPath(url);
    } catch (err) {
      throw new MlxError(E.BAD_CONFIG, `remote url ${url} is not a valid file:// url: ${(err as Error).message}`, { hint: 'write it as file:///absolute/path' });
    }
    parseOptions(url, options, {});
    return new DirRemote(dir, url);
  }
  if (scheme !== undefined || url.trim() === '') {
    throw new MlxError(E.BAD_CONFIG, `remote url ${JSON.stringify(url)} is not supported`, {
      hint: 'use s3://bucket/prefix, file:///path, or a directory path',
      data: { url },
    });
  }
  parseOptions(url, options, {});
  return new DirRemote(path.resolve(baseDir, url), url);
}

function parseS3Url(url: string, options: Partial<S3RemoteOptions>): S3RemoteOptions {
  const m = /^s3:\/\/([^/]+)\/*(.*)$/i.exec(url);
  const bucket = m?.[1];
  if (!m || !bucket) throw new MlxError(E.BAD_CONFIG, `remote url ${url} names no bucket`, { hint: 'write it as s3://bucket/optional/prefix' });
  const prefix = m[2]!.replace(/\/+$/, '');
  if (prefix.split('/').some((seg) => seg === '.' || seg === '..') || prefix.includes('//')) {
    throw new MlxError(E.BAD_CONFIG, `remote url ${url} has an invalid prefix`, { hint: 'use a prefix like s3://bucket/some/prefix' });
  }
  if (options.checksums !== undefined && options.checksums !== 'when_required' && options.checksums !== 'when_supported') {
    throw new MlxError(E.BAD_CONFIG, `remote ${url}: checksums must be when_required or when_supported, got ${options.checksums}`);
  }
  return { ...options, bucket, prefix };
}

/** `force_path_style`, `force-path-style` and `forcePathStyle` all name `forcePathStyle`. */
function canonicalName(name: string): string {
  return name.replace(/[-_]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

function parseOptions(url: string, options: Record<string, RemoteOptionValue>, known: Record<string, OptionKind>): Record<string, string | boolean | number> {
  const out: Record<string, string | boolean | number> = {};
  for (const [rawName, value] of Object.entries(options)) {
    const name = canonicalName(rawName);
    const kind = known[name];
    if (!kind) {
      const names = Object.keys(known);
      throw new MlxError(E.BAD_CONFIG, `remote ${url}: unknown option ${rawName}`, {
        hint: names.length ? `known options: ${names.join(', ')}` : 'this kind of remote takes no options',
        data: { url, option: rawName },
      });
    }
    out[name] = coerce(url, rawName, kind, value);
  }
  return out;
}

function coerce(url: string, name: string, kind: OptionKind, value: RemoteOptionValue): string | boolean | number {
  const bad = (want: string) => new MlxError(E.BAD_CONFIG, `remote ${url}: option ${name} must be ${want}, got ${JSON.stringify(value)}`);
  switch (kind) {
    case 'string':
      if (typeof value !== 'string' || value === '') throw bad('a non-empty string');
      return value;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && ['true', 'yes', '1', 'on'].includes(value.toLowerCase())) return true;
      if (typeof value === 'string' && ['false', 'no', '0', 'off'].includes(value.toLowerCase())) return false;
      throw bad('true or false');
    case 'integer': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
      if (!Number.isSafeInteger(n) || n < 0) throw bad('a whole number');
      return n;
    }
  }
}
