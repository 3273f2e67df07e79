import fs from 'node:fs';
import fsp from 'node:fs/promises';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { ObjectCannedACL, S3Client, S3ClientConfig, StorageClass } from '@aws-sdk/client-s3';
import { sha256Hex, sharedBuffer } from '../hash/sha256-thread.js';
import { E, MlxError, isErrno, isMlxError, badConfig, badState, remoteAuth, remoteCorrupt, remoteFailed, remoteNoBucket, remoteNotFound, remoteUnreachable } from '../util/errors.js';
import { commonJsExports } from '../util/modules.js';
import { assertKey, assertPrefix, assertRange, isPieces, putBodySize, type ByteRange, type PutBody, type Remote, type RemoteObjectInfo } from './remote.js';
import { backoffMs, BoundedRetryStrategy, retryBaseMs, sleep } from './retry.js';
import { chooseRegion, environmentKeys, profileName } from './aws-settings.js';

type S3Sdk = typeof import('@aws-sdk/client-s3');

/** Options of an S3 (or S3-compatible: MinIO, R2, Ceph RGW, s3rver ...) remote. */
export interface S3RemoteOptions {
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing `/`; `''` for the bucket's root. */
  prefix?: string;
  /** A custom endpoint (`http://127.0.0.1:9000`); unset means AWS S3. */
  endpoint?: string;
  /** Default: AWS_REGION, then AWS_DEFAULT_REGION, then the profile's `region`, then `us-east-1`. */
  region?: string;
  /** Path-style URLs (`endpoint/bucket/key`); default true when `endpoint` is set. */
  forcePathStyle?: boolean;
  /** A profile of ~/.aws/credentials and ~/.aws/config: its credentials win over keys in the environment. */
  profile?: string;
  /**
   * Static credentials, which win over everything else. When unset: `profile`, then AWS_ACCESS_KEY_ID
   * and AWS_SECRET_ACCESS_KEY, then the SDK's chain (AWS_PROFILE, ~/.aws, SSO, instance roles ...).
   */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /**
   * Flexible checksums (`when_supported` is the SDK's default). Default: `when_required` with a custom
   * endpoint, because with `when_supported` a streamed upload is sent aws-chunked and some S3-compatible
   * servers (s3rver, older MinIO/Ceph) store the chunk framing as part of the object.
   */
  checksums?: 'when_supported' | 'when_required';
  /**
   * Attempts per request, the first included; default 4. The SDK retries a request that failed before
   * its response arrived; mlx retries a response body cut off mid-way (resuming from the first byte not
   * received) and a streamed upload, each up to this many times.
   */
  maxAttempts?: number;
  /** Base of the exponential backoff between attempts, in ms (default 50, or MLX_RETRY_BASE_MS). */
  retryBaseMs?: number;
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
  /** PEM file of the certificate authorities trusted for https (an absolute path); default AWS_CA_BUNDLE, else Node's. */
  caBundle?: string;
  /** Server-side encryption of every upload: `AES256` (SSE-S3) or `aws:kms` / `aws:kms:dsse`; default: the bucket's. */
  sse?: 'AES256' | 'aws:kms' | 'aws:kms:dsse';
  /** The KMS key of `aws:kms` encryption (implies `sse=aws:kms`); default: the account's S3 key. */
  sseKmsKeyId?: string;
  /** Storage class of every upload (`STANDARD_IA`, `INTELLIGENT_TIERING` ...); default STANDARD. */
  storageClass?: string;
  /** Canned ACL of every upload (`bucket-owner-full-control` ...); default: none sent. */
  acl?: string;
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
/** TLS errors of a certificate chain Node does not trust: a private CA wants ca_bundle. */
const TLS_TRUST = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT',
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

/** The oldest Node major the SDK supports: below it, constructing a client emits its NodeVersionSupportWarning. */
const SDK_OLDEST_NODE = 22;

/**
 * Whether mlx switches the SDK's NodeVersionSupportWarning off on `nodeVersion`: only below the Node
 * the SDK supports (Node 20, which mlx still runs on). The SDK is bundled into mlx, so its advice to
 * upgrade Node for SDK updates is mlx's to follow; the README says where Node 20 support stands. On a
 * supported Node nothing is switched off (the SDK has nothing to say there).
 */
export function hidesSdkNodeWarning(nodeVersion: string = process.version): boolean {
  return Number(/^v?(\d+)/.exec(nodeVersion)?.[1]) < SDK_OLDEST_NODE;
}

/**
 * Builds the client; where {@link hidesSdkNodeWarning}, with the warning switched off. The SDK emits it
 * with `process.emitWarning` from the client constructor (`@aws-sdk/core` emitWarningIfUnsupportedVersion),
 * unless AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED is "true"; it then remembers the warning as
 * emitted for the whole process. The variable is set only around the constructor, so it does not leak
 * into commands mlx spawns.
 */
function newClient(sdk: S3Sdk, config: S3ClientConfig): S3Client {
  if (!hidesSdkNodeWarning()) return new sdk.S3Client(config);
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
  $metadata?: { httpStatusCode?: number; attempts?: number };
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
    if (!this.bucket) throw badConfig(`S3 remote ${url}: no bucket given`);
    this.opts = { ...DEFAULTS, ...stripUndefined(options), bucket: options.bucket };
    // Option values are checked where they are parsed (parseRemoteSpec in open-remote.ts); a half pair of
    // static credentials is only wrong once the remote is used, so it is checked here.
    if ((options.accessKeyId === undefined) !== (options.secretAccessKey === undefined)) {
      throw badConfig(`S3 remote ${url}: give both accessKeyId and secretAccessKey, or neither`);
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
    const profile = profileName(o.profile);
    const config: S3ClientConfig = {
      // A provider: the SDK asks for it when it first signs, after the shared config files are read.
      region: () => chooseRegion(o.region, profile),
      forcePathStyle: o.forcePathStyle ?? custom,
      requestChecksumCalculation: mode,
      responseChecksumValidation: mode,
      maxAttempts: o.maxAttempts,
      retryStrategy: new BoundedRetryStrategy(o.maxAttempts, retryBaseMs(o.retryBaseMs)),
      logger: QUIET_LOGGER,
      requestHandler: { connectionTimeout: o.connectTimeoutMs, socketTimeout: o.socketTimeoutMs, logger: QUIET_LOGGER, ...this.httpsAgent() },
    };
    if (custom) config.endpoint = o.endpoint;
    // On AWS a bucket in another region than the configured one still works, at one extra request.
    else config.followRegionRedirects = true;
    // Credentials in the AWS CLI's order (aws-settings.ts); the SDK's own chain lets AWS_PROFILE win over
    // keys in the environment, so those are handed to it directly unless the remote names a profile.
    if (o.accessKeyId && o.secretAccessKey) {
      config.credentials = { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey, sessionToken: o.sessionToken };
    } else if (o.profile !== undefined) {
      config.profile = o.profile;
    } else {
      const keys = environmentKeys();
      if (keys) config.credentials = keys;
    }
    return config;
  }

  /** An https agent trusting the CA bundle (option, else AWS_CA_BUNDLE), or nothing to keep Node's default. */
  private httpsAgent(): { httpsAgent?: https.Agent } {
    const file = this.opts.caBundle ?? (process.env.AWS_CA_BUNDLE || undefined);
    if (file === undefined) return {};
    let ca: Buffer;
    try {
      ca = fs.readFileSync(file);
    } catch (err) {
      const from = this.opts.caBundle !== undefined ? 'option ca_bundle' : 'AWS_CA_BUNDLE';
      throw badConfig(`S3 remote ${this.url}: cannot read the CA bundle ${file} (${from}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        hint: 'give the path of a PEM file of certificates',
        url: this.url,
      });
    }
    // The SDK's own defaults for its agent, with the bundle as the trusted authorities.
    return { httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 50, ca }) };
  }

  /** What every upload sends besides the body: encryption, storage class, ACL. */
  private uploadSettings(): { ServerSideEncryption?: 'AES256' | 'aws:kms' | 'aws:kms:dsse'; SSEKMSKeyId?: string; StorageClass?: StorageClass; ACL?: ObjectCannedACL } {
    const o = this.opts;
    const sse = o.sse ?? (o.sseKmsKeyId !== undefined ? 'aws:kms' : undefined);
    return stripUndefined({
      ServerSideEncryption: sse,
      SSEKMSKeyId: o.sseKmsKeyId,
      StorageClass: o.storageClass as StorageClass | undefined,
      ACL: o.acl as ObjectCannedACL | undefined,
    });
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
          throw remoteFailed(`list ${this.where(prefix)}: the server cut the listing short without a continuation token`, { prefix });
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
    let out: Buffer | undefined;
    const parts: Buffer[] = [];
    let n = 0;
    await this.download(
      key,
      range,
      (length) => {
        if (length !== undefined) out = into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
      },
      (chunk) => {
        if (out) chunk.copy(out, n);
        else parts.push(chunk);
        n += chunk.length;
      },
    );
    return out ?? Buffer.concat(parts);
  }

  async getToFile(key: string, dest: string): Promise<number> {
    assertKey(key);
    let fh: fsp.FileHandle | undefined;
    let written = 0;
    try {
      await this.download(
        key,
        undefined,
        // Opened once the object is known to exist, so a missing key leaves no file behind.
        async () => {
          try {
            fh = await fsp.open(dest, 'wx');
          } catch (err) {
            if (isErrno(err, 'EEXIST')) throw badState(`cannot download ${key} to ${dest}: the file already exists`, { cause: err });
            throw err;
          }
        },
        async (chunk) => {
          for (let off = 0; off < chunk.length; ) off += (await fh!.write(chunk, off, chunk.length - off)).bytesWritten;
          written += chunk.length;
        },
      );
      await fh?.close();
      return written;
    } catch (err) {
      if (fh) {
        await fh.close().catch(() => undefined); // the download's own error is the one to report
        await fsp.rm(dest, { force: true });
      }
      throw err;
    }
  }

  /**
   * Streams the bytes of `key` (of `range`, clipped to the object) to `onData`, in order and each byte
   * once; `onLength` hears first how many there will be (undefined when the server does not say). The
   * SDK retries a request that fails before its response arrives, never a body that breaks after: a
   * reset, a premature close or a body shorter than announced is asked for again here, from the first
   * byte not yet received, up to maxAttempts times with backoff. Errors of the callbacks (the local
   * disk) pass through unchanged.
   */
  private async download(
    key: string,
    range: ByteRange | undefined,
    onLength: (length: number | undefined) => void | Promise<void>,
    onData: (chunk: Buffer) => void | Promise<void>,
  ): Promise<void> {
    const { sdk, client } = await this.client();
    const first = range?.start ?? 0;
    let pos = first;
    let end = range?.end;
    let started = false;
    for (let attempt = 1; ; attempt++) {
      const Range = !started && !range ? undefined : `bytes=${pos}-${end === undefined ? '' : end - 1}`;
      let res: { Body?: unknown; ContentLength?: number; ContentRange?: string };
      try {
        res = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key), Range }));
      } catch (err) {
        // A range starting at or past the end: clipped to nothing, as the interface promises.
        if (range && !started && (err as SdkError).$metadata?.httpStatusCode === 416) return void (await onLength(0));
        throw this.mapError(err, 'get', key);
      }
      const body = res.Body as Readable;
      // HTTP lets a server send more than was asked: the whole object with 200 (no Content-Range), or a
      // wider 206 (s3rver answers `bytes=0-0` with everything); Content-Range says where the body starts.
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.ContentRange ?? '');
      const offset = m ? Number(m[1]) : 0;
      if (offset > pos) {
        body.destroy();
        throw remoteCorrupt(`${this.where(key)}: asked for bytes from ${pos}, the server sent from ${offset}`, { key });
      }
      if (!started) {
        const objectEnd = m ? (m[3] === '*' ? Number(m[2]) + 1 : Number(m[3])) : res.ContentLength;
        if (objectEnd !== undefined) end = Math.max(first, Math.min(end ?? objectEnd, objectEnd));
        await onLength(end === undefined ? undefined : end - first);
        started = true;
      }
      let skip = pos - offset;
      let localError: unknown;
      try {
        for await (const raw of body as AsyncIterable<Buffer>) {
          if (end !== undefined && pos >= end) break;
          let chunk = raw;
          if (skip > 0) {
            const drop = Math.min(skip, chunk.length);
            skip -= drop;
            chunk = chunk.subarray(drop);
          }
          if (end !== undefined && chunk.length > end - pos) chunk = chunk.subarray(0, end - pos);
          if (chunk.length === 0) continue;
          try {
            await onData(chunk);
          } catch (err) {
            localError = err;
            throw err;
          }
          pos += chunk.length;
        }
        if (end === undefined || pos >= end) return;
        throw new CutShort(`received ${pos - first} of ${end - first} bytes`);
      } catch (err) {
        body.destroy();
        if (err === localError) throw err;
        if (!isBodyFault(err)) throw this.mapError(err, 'get', key);
        if (attempt >= this.opts.maxAttempts) {
          const why = err instanceof CutShort ? 'cut short' : ((err as NodeJS.ErrnoException).code ?? (err as Error).name);
          throw remoteUnreachable(
            `${this.where(key)}: the connection to ${this.endpointName()} broke ${attempt} times while receiving it (${why}); ${pos - first} of ${end === undefined ? 'its' : end - first} bytes arrived`,
            { hint: 'check your network connection, then run the command again', url: this.url, key, op: 'get', code: why, cause: err },
          );
        }
        await sleep(backoffMs(attempt, retryBaseMs(this.opts.retryBaseMs)));
      }
    }
  }

  async put(key: string, pieces: PutBody): Promise<void> {
    assertKey(key);
    // One request body: pieces are joined in shared memory (hashed for the signature on another thread).
    const body = isPieces(pieces) ? joinPieces(pieces) : pieces;
    const { sdk, client } = await this.client();
    const Key = this.keyOf(key);
    let expected: number;
    if (Buffer.isBuffer(body)) {
      expected = body.length;
      try {
        const put = new sdk.PutObjectCommand({ Bucket: this.bucket, Key, Body: body, ContentLength: body.length, ...this.uploadSettings() });
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
      if (stored) await this.delete(key).catch(() => undefined); // best effort: the size error below is what counts
      throw remoteCorrupt(
        `${this.where(key)}: the remote stored ${stored?.size ?? 'no'} bytes, ${expected} were sent`,
        {
          key,
          stored: stored?.size,
          expected,
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
    const code = isMlxError(mapped, E.REMOTE_UNREACHABLE) ? mapped.data.code : undefined;
    if (code !== 'ECONNRESET' && code !== 'EPIPE') return mapped;
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
        await client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key, Body: stream, ContentLength: size, ...this.uploadSettings() }));
        return;
      } catch (err) {
        if (attempt >= this.opts.maxAttempts || !isTransient(err)) throw err;
        await sleep(backoffMs(attempt, retryBaseMs(this.opts.retryBaseMs)));
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
        params: { Bucket: this.bucket, Key, Body: stream, ...this.uploadSettings() },
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
        throw remoteNoBucket(`${this.url}: bucket ${this.bucket} not found at ${this.endpointName()} (HTTP 404)`, {
          hint: 'create the bucket, or check that the endpoint is an S3 service',
          url: this.url,
          bucket: this.bucket,
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
    return remoteNoBucket(`${this.url}: bucket ${this.bucket} does not exist at ${this.endpointName()}`, {
      hint: 'create the bucket, or fix the remote url',
      url: this.url,
      bucket: this.bucket,
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
    const attempts = e.$metadata?.attempts;
    const tries = attempts && attempts > 1 ? ` after ${attempts} attempts` : '';
    if (UNREACHABLE.has(code) || UNREACHABLE.has(name)) {
      const broke = code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED';
      const what = name === 'TimeoutError' || code === 'ETIMEDOUT' ? 'no answer in time from' : broke ? 'the connection broke to' : 'cannot reach';
      return remoteUnreachable(`${this.where(key)}: ${what} ${this.endpointName()} (${code || name})${tries}`, {
        hint: 'check the endpoint and your network connection',
        ...data,
        cause: err,
      });
    }
    // A server that kept failing or throttling through every attempt: unavailable, not a missing or a
    // damaged object (a HEAD's error has no body, so only its status tells).
    if (TRANSIENT.has(name) || name === 'ServiceUnavailable' || (status !== undefined && (status >= 500 || status === 429))) {
      const why = name && name !== 'Unknown' && name !== 'Error' ? `${name}, HTTP ${status ?? '?'}` : `HTTP ${status}`;
      return remoteUnreachable(`${op} ${this.where(key)}: ${this.endpointName()} is failing or overloaded (${why})${tries}`, {
        hint: 'try again later; if it persists, check the server',
        ...data,
        cause: err,
      });
    }
    if (TLS_TRUST.has(code)) {
      return remoteFailed(`${this.where(key)}: the certificate of ${this.endpointName()} is not trusted (${code})`, {
        hint: 'give the issuing CA as a PEM file with the remote option ca_bundle or AWS_CA_BUNDLE',
        ...data,
        cause: err,
      });
    }
    if (name === 'NoSuchBucket') return this.noBucket(err);
    if (AUTH.has(name) || status === 401 || status === 403) {
      const why = name === 'CredentialsProviderError' ? 'no AWS credentials found' : `access denied (${name || status})`;
      return remoteAuth(`${this.where(key)}: ${why}`, {
        hint: 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the remote\'s profile option, and the bucket policy',
        ...data,
        cause: err,
      });
    }
    if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
      return remoteNotFound(`${this.where(key)} does not exist on the remote`, { ...data, cause: err });
    }
    const detail = (e.message ?? String(err)).split('\n')[0];
    return remoteFailed(`${op} ${this.where(key)} failed: ${name && name !== 'Error' ? `${name}: ` : ''}${detail}`, { ...data, cause: err });
  }
}

function isTransient(err: unknown): boolean {
  const e = (err ?? {}) as SdkError & { $retryable?: unknown };
  const status = e.$metadata?.httpStatusCode ?? 0;
  const code = e.code ?? e.errors?.find((x) => x.code)?.code ?? '';
  return Boolean(e.$retryable) || status >= 500 || status === 429 || TRANSIENT.has(e.name ?? '') || UNREACHABLE.has(code);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A response body that ended before the bytes its headers announced. */
class CutShort extends Error {}

/** Errno values of a connection that broke while a body was being received. */
const BODY_FAULTS = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE']);

/** Whether a failure while reading a response body is the network's, worth asking again for the rest. */
function isBodyFault(err: unknown): boolean {
  if (err instanceof CutShort) return true;
  const e = (err ?? {}) as NodeJS.ErrnoException;
  return BODY_FAULTS.has(e.code ?? '') || e.name === 'TimeoutError' || e.message === 'aborted';
}

function joinPieces(pieces: readonly Buffer[]): Buffer {
  const joined = sharedBuffer(pieces.reduce((n, piece) => n + piece.length, 0));
  let at = 0;
  for (const piece of pieces) at += piece.copy(joined, at);
  return joined;
}
