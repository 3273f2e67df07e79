import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { sha256Hex } from '../hash/sha256-thread.js';
import { E, MlxError, isErrno } from '../util/errors.js';
import { commonJsExports } from '../util/modules.js';
import { assertKey, assertPrefix, assertRange, putBodySize, type ByteRange, type PutBody, type Remote, type RemoteObjectInfo } from './remote.js';

type S3Sdk = typeof import('@aws-sdk/client-s3');

/** Options of an S3 (or S3-compatible: MinIO, R2, Ceph RGW, s3rver ...) remote. */
export interface S3RemoteOptions {
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing `/`; `''` for the bucket's root. */
  prefix?: string;
  /** A custom endpoint (`http://127.0.0.1:9000`); unset means AWS S3. */
  endpoint?: string;
  /** Default: AWS_REGION, then AWS_DEFAULT_REGION, then `us-east-1`. */
  region?: string;
  /** Path-style URLs (`endpoint/bucket/key`); default true when `endpoint` is set. */
  forcePathStyle?: boolean;
  /** A profile of ~/.aws/credentials and ~/.aws/config; default: the SDK's chain (AWS_PROFILE, env keys ...). */
  profile?: string;
  /** Static credentials; when unset the SDK's default provider chain is used (preferred). */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /**
   * Flexible checksums (`when_supported` is the SDK's default). Default: `when_required` with a custom
   * endpoint, because with `when_supported` a streamed upload is sent aws-chunked and some S3-compatible
   * servers (s3rver, older MinIO/Ceph) store the chunk framing as part of the object.
   */
  checksums?: 'when_supported' | 'when_required';
  /** SDK attempts per request, the first included; default 4, with the SDK's exponential backoff. */
  maxAttempts?: number;
  /** How long to wait for a TCP connection before the attempt fails; default 2000 ms. */
  connectTimeoutMs?: number;
  /** How long a socket may stay idle mid-request before the attempt fails; default 30000 ms (with 4 attempts, a silent server is given up on within 2 minutes). */
  socketTimeoutMs?: number;
  /** Keys per ListObjectsV2 page (1-1000); default 1000. */
  pageSize?: number;
  /** Files larger than this are sent as a multipart upload; default 64 MiB. */
  multipartThreshold?: number;
  /** Part size of multipart uploads (S3's minimum is 5 MiB); default 16 MiB. */
  partSize?: number;
  /** Parts in flight at once for one multipart upload; default 4. */
  partConcurrency?: number;
}

const MIB = 1024 * 1024;
const DEFAULTS = {
  maxAttempts: 4,
  connectTimeoutMs: 2000,
  socketTimeoutMs: 30_000,
  pageSize: 1000,
  multipartThreshold: 64 * MIB,
  partSize: 16 * MIB,
  partConcurrency: 4,
};
/** Read size for streamed uploads: 1 MiB beats larger buffers here (DESIGN.md facts). */
const READ_CHUNK = MIB;

/** Errno values (and SDK error names) that mean the endpoint cannot be reached at all. */
const UNREACHABLE = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN',
  'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'TimeoutError', 'RequestTimeout',
]);
/** S3 error names that mean the credentials are missing, wrong or not allowed to do this. */
const AUTH = new Set([
  'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'Forbidden', 'ExpiredToken', 'InvalidToken',
  'TokenRefreshRequired', 'InvalidClientTokenId', 'CredentialsProviderError', 'AllAccessDisabled',
]);
/** Throttling / server-side names worth another try of a request the SDK cannot retry itself. */
const TRANSIENT = new Set(['SlowDown', 'ThrottlingException', 'RequestTimeout', 'InternalError', 'ServiceUnavailable']);

/** A logger that drops everything: the SDK otherwise writes some warnings to the console itself. */
const QUIET_LOGGER = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

let sdkPromise: Promise<S3Sdk> | undefined;
/**
 * The SDK costs ~0.2 s to import even bundled: load it only when an S3 remote is first used.
 */
function loadSdk(): Promise<S3Sdk> {
  sdkPromise ??= import('@aws-sdk/client-s3').then(commonJsExports);
  return sdkPromise;
}

/**
 * Builds the client with the SDK's NodeVersionSupportWarning switched off. The SDK emits it with
 * `process.emitWarning` from the client constructor (`@aws-sdk/core` emitWarningIfUnsupportedVersion),
 * unless AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED is "true"; it then remembers the warning as
 * emitted for the whole process. The variable is set only around the constructor, so it does not leak
 * into commands mlx spawns.
 */
function newClient(sdk: S3Sdk, config: S3ClientConfig): S3Client {
  const name = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
  const saved = process.env[name];
  process.env[name] = 'true';
  try {
    return new sdk.S3Client(config);
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  errors?: Array<{ code?: string }>;
  $metadata?: { httpStatusCode?: number };
}

/**
 * A remote in an S3 bucket (AWS or any S3-compatible server). Key `k` is the object `<prefix>/k`.
 *
 * Uploads: a Buffer goes in one PUT; a file up to `multipartThreshold` is streamed in one PUT with a
 * known Content-Length (no aws-chunked framing); a larger file goes as a multipart upload of Buffer
 * parts. S3 makes a PUT visible only when complete, so every upload is atomic. After each upload the
 * stored size is read back (HEAD); a mismatch deletes the object and is an `E.REMOTE_CORRUPT` error.
 */
export class S3Remote implements Remote {
  readonly bucket: string;
  readonly prefix: string;
  private readonly opts: S3RemoteOptions & typeof DEFAULTS;
  private clientPromise: Promise<{ sdk: S3Sdk; client: S3Client }> | undefined;

  constructor(options: S3RemoteOptions, readonly url: string = `s3://${options.bucket}/${options.prefix ?? ''}`) {
    this.bucket = options.bucket;
    this.prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    if (!this.bucket) throw new MlxError(E.BAD_CONFIG, `S3 remote ${url}: no bucket given`);
    this.opts = { ...DEFAULTS, ...stripUndefined(options), bucket: options.bucket };
    // Option values are checked where they are parsed (parseRemoteSpec in open-remote.ts); a half pair of
    // static credentials is only wrong once the remote is used, so it is checked here.
    if ((options.accessKeyId === undefined) !== (options.secretAccessKey === undefined)) {
      throw new MlxError(E.BAD_CONFIG, `S3 remote ${url}: give both accessKeyId and secretAccessKey, or neither`);
    }
  }

  /** The SDK client, created on first use. */
  private client(): Promise<{ sdk: S3Sdk; client: S3Client }> {
    this.clientPromise ??= loadSdk().then((sdk) => ({ sdk, client: newClient(sdk, this.clientConfig()) }));
    return this.clientPromise;
  }

  private clientConfig(): S3ClientConfig {
    const o = this.opts;
    const custom = o.endpoint !== undefined;
    const checksums = o.checksums ?? (custom ? 'when_required' : 'when_supported');
    const mode = checksums === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
    const config: S3ClientConfig = {
      region: o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      forcePathStyle: o.forcePathStyle ?? custom,
      requestChecksumCalculation: mode,
      responseChecksumValidation: mode,
      maxAttempts: o.maxAttempts,
      retryMode: 'standard',
      logger: QUIET_LOGGER,
      requestHandler: { connectionTimeout: o.connectTimeoutMs, socketTimeout: o.socketTimeoutMs, logger: QUIET_LOGGER },
    };
    if (custom) config.endpoint = o.endpoint;
    // On AWS a bucket in another region than the configured one still works, at one extra request.
    else config.followRegionRedirects = true;
    if (o.profile !== undefined) config.profile = o.profile;
    if (o.accessKeyId && o.secretAccessKey) {
      config.credentials = { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey, sessionToken: o.sessionToken };
    }
    return config;
  }

  async list(prefix: string): Promise<RemoteObjectInfo[]> {
    assertPrefix(prefix);
    const { sdk, client } = await this.client();
    const found: RemoteObjectInfo[] = [];
    // The remote's own prefix ends at a `/`, so `a/b` never lists the neighbour `a/bc`.
    const base = this.prefix === '' ? '' : `${this.prefix}/`;
    let token: string | undefined;
    try {
      do {
        const page = await client.send(
          new sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: base + prefix, MaxKeys: this.opts.pageSize, ContinuationToken: token }),
        );
        for (const obj of page.Contents ?? []) {
          if (obj.Key === undefined || !obj.Key.startsWith(base)) continue;
          found.push({ key: obj.Key.slice(base.length), size: obj.Size ?? 0 });
        }
        if (page.IsTruncated && !page.NextContinuationToken) {
          throw new MlxError(E.REMOTE_FAILED, `list ${this.where(prefix)}: the server cut the listing short without a continuation token`, { data: { prefix } });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw this.mapError(err, 'list', prefix);
    }
    return found;
  }

  async head(key: string): Promise<RemoteObjectInfo | undefined> {
    assertKey(key);
    const { sdk, client } = await this.client();
    try {
      const res = await client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      return { key, size: res.ContentLength ?? 0 };
    } catch (err) {
      const mapped = this.mapError(err, 'head', key);
      if (mapped.code === E.REMOTE_NOT_FOUND) return undefined;
      throw mapped;
    }
  }

  async get(key: string, range?: ByteRange, into?: Buffer): Promise<Buffer> {
    assertKey(key);
    if (range) {
      assertRange(range);
      // HTTP cannot ask for zero bytes.
      if (range.start === range.end) return Buffer.alloc(0);
    }
    const { sdk, client } = await this.client();
    try {
      const res = await client.send(
        new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key), Range: range ? `bytes=${range.start}-${range.end - 1}` : undefined }),
      );
      const buf = await readBody(res.Body as Readable, res.ContentLength, into);
      if (res.ContentLength !== undefined && res.ContentLength !== buf.length) {
        throw new MlxError(E.REMOTE_CORRUPT, `${this.where(key)}: received ${buf.length} of ${res.ContentLength} bytes`, { data: { key } });
      }
      return range ? this.cutRange(key, buf, range, res.ContentRange) : buf;
    } catch (err) {
      // A range starting at or past the end: clipped to nothing, as the interface promises.
      if (range && (err as SdkError).$metadata?.httpStatusCode === 416) return Buffer.alloc(0);
      throw this.mapError(err, 'get', key);
    }
  }

  /**
   * The requested slice of a ranged response. HTTP lets a server send more than was asked: the whole
   * object with 200 (no Content-Range), or a wider 206 (s3rver answers `bytes=0-0` with everything);
   * Content-Range says where the body starts.
   */
  private cutRange(key: string, body: Buffer, range: ByteRange, contentRange: string | undefined): Buffer {
    const m = /^bytes (\d+)-(\d+)\/(?:\d+|\*)$/.exec(contentRange ?? '');
    const offset = m ? Number(m[1]) : 0;
    if (offset > range.start) {
      throw new MlxError(E.REMOTE_CORRUPT, `${this.where(key)}: asked for bytes from ${range.start}, the server sent from ${offset}`, { data: { key } });
    }
    const from = range.start - offset;
    return body.subarray(from, from + (range.end - range.start));
  }

  async getToFile(key: string, dest: string): Promise<number> {
    assertKey(key);
    const { sdk, client } = await this.client();
    let body: Readable;
    let expected: number | undefined;
    try {
      const res = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      body = res.Body as Readable;
      expected = res.ContentLength;
    } catch (err) {
      throw this.mapError(err, 'get', key);
    }
    let out: fs.WriteStream;
    try {
      out = await openNew(dest);
    } catch (err) {
      body.destroy();
      if (isErrno(err, 'EEXIST')) throw new MlxError(E.BAD_STATE, `cannot download ${key} to ${dest}: the file already exists`, { cause: err });
      throw err;
    }
    let written = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        written += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, count, out);
      if (expected !== undefined && written !== expected) {
        throw new MlxError(E.REMOTE_CORRUPT, `${this.where(key)}: received ${written} of ${expected} bytes`, { data: { key } });
      }
      return written;
    } catch (err) {
      await fsp.rm(dest, { force: true });
      // Errors of the local file (a full disk ...) are not the remote's: they pass through as they are.
      if ((err as NodeJS.ErrnoException).path !== undefined) throw err;
      throw this.mapError(err, 'get', key);
    }
  }

  async put(key: string, body: PutBody): Promise<void> {
    assertKey(key);
    const { sdk, client } = await this.client();
    const Key = this.keyOf(key);
    let expected: number;
    if (Buffer.isBuffer(body)) {
      expected = body.length;
      try {
        const put = new sdk.PutObjectCommand({ Bucket: this.bucket, Key, Body: body, ContentLength: body.length });
        // The signature covers the body's SHA-256; given in the header, the signer does not hash it again.
        const payloadHash = await sha256Hex(body);
        put.middlewareStack.add(
          (next) => (args) => {
            (args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] = payloadHash;
            return next(args);
          },
          { step: 'build', name: 'mlxPayloadHash' },
        );
        await client.send(put);
      } catch (err) {
        throw await this.putError(err, key);
      }
    } else {
      expected = await putBodySize(body);
      try {
        if (expected > this.opts.multipartThreshold) await this.putMultipart(client, Key, body.file);
        else await this.putStream(sdk, client, Key, body.file, expected);
      } catch (err) {
        throw await this.putError(err, key);
      }
    }
    const stored = await this.head(key);
    if (stored?.size !== expected) {
      // A wrong-sized object under a content-derived key would later pass for the real one.
      if (stored) await this.delete(key).catch(() => undefined);
      throw new MlxError(
        E.REMOTE_CORRUPT,
        `${this.where(key)}: the remote stored ${stored?.size ?? 'no'} bytes, ${expected} were sent`,
        {
          data: { key, stored: stored?.size, expected },
          hint: this.opts.endpoint !== undefined ? 'this server may mangle uploads; try the remote option checksums=when_required' : undefined,
        },
      );
    }
  }

  /**
   * The error of a failed upload. A server may answer a PUT it refuses (wrong credentials, no bucket)
   * before it has read the body and then close the connection: the client, still sending, sees a
   * reset or a broken pipe rather than the answer. A cheap request then tells what is really wrong.
   */
  private async putError(err: unknown, key: string): Promise<MlxError> {
    const mapped = this.mapError(err, 'put', key);
    const code = (mapped.data as { code?: string } | undefined)?.code;
    if (mapped.code !== E.REMOTE_UNREACHABLE || (code !== 'ECONNRESET' && code !== 'EPIPE')) return mapped;
    return this.check().then(
      () => mapped,
      (probe: unknown) => (probe instanceof MlxError && probe.code !== E.REMOTE_UNREACHABLE ? probe : mapped),
    );
  }

  /**
   * One PUT streaming the file with its Content-Length. The SDK never retries a streamed body (it
   * cannot rewind it), so transient failures are retried here by reopening the file.
   */
  private async putStream(sdk: S3Sdk, client: S3Client, Key: string, file: string, size: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const stream = fs.createReadStream(file, { highWaterMark: READ_CHUNK });
      try {
        await client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key, Body: stream, ContentLength: size }));
        return;
      } catch (err) {
        if (attempt >= this.opts.maxAttempts || !isTransient(err)) throw err;
        await sleep(Math.random() * 100 * 2 ** attempt);
      } finally {
        stream.destroy();
      }
    }
  }

  /** A multipart upload through `@aws-sdk/lib-storage`: Buffer parts, retried by the SDK, aborted on failure. */
  private async putMultipart(client: S3Client, Key: string, file: string): Promise<void> {
    const { Upload } = commonJsExports(await import('@aws-sdk/lib-storage'));
    const stream = fs.createReadStream(file, { highWaterMark: READ_CHUNK });
    try {
      const upload = new Upload({
        client,
        params: { Bucket: this.bucket, Key, Body: stream },
        partSize: this.opts.partSize,
        queueSize: this.opts.partConcurrency,
        leavePartsOnError: false,
      });
      await upload.done();
    } finally {
      stream.destroy();
    }
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    const { sdk, client } = await this.client();
    try {
      await client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
    } catch (err) {
      const mapped = this.mapError(err, 'delete', key);
      if (mapped.code !== E.REMOTE_NOT_FOUND) throw mapped;
    }
  }

  async check(): Promise<void> {
    const { sdk, client } = await this.client();
    try {
      await client.send(new sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix === '' ? undefined : `${this.prefix}/`, MaxKeys: 1 }));
    } catch (err) {
      const mapped = this.mapError(err, 'check', '');
      // A 404 without an S3 error code on the bucket itself: no such bucket, or not an S3 endpoint at all.
      if (mapped.code === E.REMOTE_NOT_FOUND) {
        throw new MlxError(E.REMOTE_NO_BUCKET, `${this.url}: bucket ${this.bucket} not found at ${this.endpointName()} (HTTP 404)`, {
          hint: 'create the bucket, or check that the endpoint is an S3 service',
          data: { url: this.url, bucket: this.bucket },
          cause: err,
        });
      }
      throw mapped;
    }
  }

  private keyOf(key: string): string {
    return this.prefix === '' ? key : `${this.prefix}/${key}`;
  }

  private where(key: string): string {
    return key === '' ? this.url : `${this.url}: ${key}`;
  }

  private endpointName(): string {
    return this.opts.endpoint ?? 'AWS S3';
  }

  private noBucket(err: unknown): MlxError {
    return new MlxError(E.REMOTE_NO_BUCKET, `${this.url}: bucket ${this.bucket} does not exist at ${this.endpointName()}`, {
      hint: 'create the bucket, or fix the remote url',
      data: { url: this.url, bucket: this.bucket },
      cause: err,
    });
  }

  /** One clear MlxError per failure, by S3 error name, HTTP status or errno; MlxErrors pass through. */
  private mapError(err: unknown, op: string, key: string): MlxError {
    if (err instanceof MlxError) return err;
    const e = (err ?? {}) as SdkError;
    const name = e.name ?? '';
    const code = e.code ?? e.errors?.find((x) => x.code)?.code ?? '';
    const status = e.$metadata?.httpStatusCode;
    const data = { url: this.url, key, op, name, status, code: code || undefined };
    if (UNREACHABLE.has(code) || UNREACHABLE.has(name)) {
      const what = name === 'TimeoutError' || code === 'ETIMEDOUT' ? 'no answer in time from' : 'cannot reach';
      return new MlxError(E.REMOTE_UNREACHABLE, `${this.url}: ${what} ${this.endpointName()} (${code || name})`, {
        hint: 'check the endpoint and your network connection',
        data,
        cause: err,
      });
    }
    if (name === 'NoSuchBucket') return this.noBucket(err);
    if (AUTH.has(name) || status === 401 || status === 403) {
      const why = name === 'CredentialsProviderError' ? 'no AWS credentials found' : `access denied (${name || status})`;
      return new MlxError(E.REMOTE_AUTH, `${this.where(key)}: ${why}`, {
        hint: 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the remote\'s profile option, and the bucket policy',
        data,
        cause: err,
      });
    }
    if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
      return new MlxError(E.REMOTE_NOT_FOUND, `${this.where(key)} does not exist on the remote`, { data, cause: err });
    }
    const detail = (e.message ?? String(err)).split('\n')[0];
    return new MlxError(E.REMOTE_FAILED, `${op} ${this.where(key)} failed: ${name && name !== 'Error' ? `${name}: ` : ''}${detail}`, { data, cause: err });
  }
}

function isTransient(err: unknown): boolean {
  const e = (err ?? {}) as SdkError & { $retryable?: unknown };
  const status = e.$metadata?.httpStatusCode ?? 0;
  const code = e.code ?? e.errors?.find((x) => x.code)?.code ?? '';
  return Boolean(e.$retryable) || status >= 500 || status === 429 || TRANSIENT.has(e.name ?? '') || UNREACHABLE.has(code);
}

/** A write stream on a file that must not exist yet, opened before any byte is received. */
function openNew(dest: string): Promise<fs.WriteStream> {
  return new Promise((resolve, reject) => {
    const out = fs.createWriteStream(dest, { flags: 'wx' });
    out.once('open', () => resolve(out));
    out.once('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * A response body as one Buffer: copied into `into` when its announced length fits there, else
 * gathered the SDK's way. A body longer than announced is returned whole for the caller to refuse.
 */
async function readBody(body: Readable, length: number | undefined, into: Buffer | undefined): Promise<Buffer> {
  if (!into || length === undefined || length > into.length) {
    const bytes = await (body as Readable & { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  let n = 0;
  const extra: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const fits = Math.max(0, Math.min(chunk.length, into.length - n));
    chunk.copy(into, n, 0, fits);
    if (fits < chunk.length) extra.push(chunk.subarray(fits));
    n += chunk.length;
  }
  return extra.length === 0 ? into.subarray(0, n) : Buffer.concat([into.subarray(0, into.length), ...extra]);
}
