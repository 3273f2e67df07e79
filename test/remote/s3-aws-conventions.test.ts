import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openRemote, type RemoteOptionValue } from '../../src/remote/open-remote.js';
import type { Remote } from '../../src/remote/remote.js';
import { E, MlxError } from '../../src/util/errors.js';
import { rejectionCode } from '../helpers/errors.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

/*
 * The AWS conventions of S3 remotes against a real S3-compatible server (s3rver): options as a config
 * file gives them (snake_case strings, through openRemote), and what reached the server checked in the
 * request headers s3rver received and in the metadata it stored beside each object.
 */

let server: S3TestServer;
let tmp: string;

const AWS_VARS = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CA_BUNDLE'];
let savedEnv: Record<string, string | undefined>;

beforeAll(async () => {
  server = await startS3Server();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-s3-aws-'));
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});
// Every test starts with no AWS setting of the machine: files that do not exist, no variables.
beforeEach(() => {
  savedEnv = Object.fromEntries(AWS_VARS.map((v) => [v, process.env[v]]));
  for (const v of AWS_VARS) delete process.env[v];
  process.env.AWS_CONFIG_FILE = path.join(tmp, 'no-config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(tmp, 'no-credentials');
});
afterEach(() => {
  for (const v of AWS_VARS) {
    if (savedEnv[v] === undefined) delete process.env[v];
    else process.env[v] = savedEnv[v];
  }
});

const KEYS = { access_key_id: 'S3RVER', secret_access_key: 'S3RVER' };

function open(url: string, options: Record<string, RemoteOptionValue>): Promise<Remote> {
  return openRemote(url, { endpoint: server.endpoint, max_attempts: '1', ...options }, tmp);
}

/** The headers of the requests received since `from` whose `METHOD /path` starts with `line`. */
function headersOf(from: number, line: string): http.IncomingHttpHeaders[] {
  return server.requests.flatMap((r, i) => (i >= from && r.startsWith(line) ? [server.requestHeaders[i]!] : []));
}

/** The region a request was signed for: the third field of the credential scope in its Authorization. */
function signedRegion(headers: http.IncomingHttpHeaders): string | undefined {
  return /Credential=[^/]+\/\d{8}\/([^/]+)\/s3\/aws4_request/.exec(headers.authorization ?? '')?.[1];
}

function signedKeyId(headers: http.IncomingHttpHeaders): string | undefined {
  return /Credential=([^/]+)\//.exec(headers.authorization ?? '')?.[1];
}

/** Ini files in a fresh folder each time: the SDK caches what it read by file name. */
function awsFiles(config: string, credentials: string): void {
  const dir = fs.mkdtempSync(path.join(tmp, 'aws-'));
  fs.writeFileSync(path.join(dir, 'config'), config);
  fs.writeFileSync(path.join(dir, 'credentials'), credentials);
  process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
}

function storedMetadata(key: string): Record<string, string> {
  return JSON.parse(fs.readFileSync(path.join(server.dir, server.bucket, `${key}._S3rver_metadata.json`), 'utf8')) as Record<string, string>;
}

describe('upload settings reach every upload', () => {
  it('sse, storage_class and acl go with a Buffer, a streamed file and a multipart upload', async () => {
    const remote = await open(`s3://${server.bucket}/settings`, {
      ...KEYS,
      sse: 'AES256',
      storage_class: 'STANDARD_IA',
      acl: 'bucket-owner-full-control',
      multipart_threshold: String(6 * 1024 * 1024),
      part_size: String(5 * 1024 * 1024),
    });
    const small = path.join(tmp, 'small.bin');
    fs.writeFileSync(small, crypto.randomBytes(100_000));
    const big = path.join(tmp, 'big.bin');
    fs.writeFileSync(big, crypto.randomBytes(7 * 1024 * 1024));
    const from = server.requests.length;
    await remote.put('a/buffer', Buffer.from('one buffer'));
    await remote.put('a/stream', { file: small });
    await remote.put('a/multipart', { file: big });

    const puts = headersOf(from, 'PUT /mlx-test/settings/a/buffer').concat(headersOf(from, 'PUT /mlx-test/settings/a/stream'));
    const createMultipart = headersOf(from, 'POST /mlx-test/settings/a/multipart?uploads');
    expect(puts).toHaveLength(2);
    expect(createMultipart).toHaveLength(1);
    for (const h of [...puts, ...createMultipart]) {
      expect(h['x-amz-server-side-encryption']).toBe('AES256');
      expect(h['x-amz-storage-class']).toBe('STANDARD_IA');
      expect(h['x-amz-acl']).toBe('bucket-owner-full-control');
    }
    // s3rver keeps the storage class (not encryption or ACL) with the object.
    for (const key of ['buffer', 'stream', 'multipart']) expect(storedMetadata(`settings/a/${key}`)['x-amz-storage-class']).toBe('STANDARD_IA');
    expect((await remote.get('a/multipart')).equals(fs.readFileSync(big))).toBe(true);
  });

  it('sse_kms_key_id sends aws:kms with the key; no option sends none of these headers', async () => {
    const kms = await open(`s3://${server.bucket}/kms`, { ...KEYS, sse_kms_key_id: 'alias/mlx-test' });
    const plain = await open(`s3://${server.bucket}/plain`, KEYS);
    const from = server.requests.length;
    await kms.put('k', Buffer.from('secret'));
    await plain.put('k', Buffer.from('plain'));
    const [withKey] = headersOf(from, 'PUT /mlx-test/kms/k');
    expect(withKey!['x-amz-server-side-encryption']).toBe('aws:kms');
    expect(withKey!['x-amz-server-side-encryption-aws-kms-key-id']).toBe('alias/mlx-test');
    const [without] = headersOf(from, 'PUT /mlx-test/plain/k');
    for (const h of ['x-amz-server-side-encryption', 'x-amz-storage-class', 'x-amz-acl']) expect(without![h]).toBeUndefined();
    expect(storedMetadata('plain/k')['x-amz-storage-class']).toBeUndefined();
  });

  it('bad values are refused before anything is sent', async () => {
    const bad: Record<string, string>[] = [{ sse: 'aes256' }, { storage_class: 'GLACIER' }, { storage_class: 'DEEP_ARCHIVE' }, { acl: 'everyone' }, { sse: 'AES256', sse_kms_key_id: 'k' }, { ca_bundle: '~other/ca.pem' }];
    for (const options of bad) {
      expect(await rejectionCode(open(`s3://${server.bucket}/p`, { ...KEYS, ...options })), JSON.stringify(options)).toBe(E.BAD_CONFIG);
    }
  });
});

describe('region and credentials as the AWS CLI chooses them', () => {
  const profiles = '[default]\nregion = ap-south-1\n\n[profile eu]\nregion = eu-west-1\ns3 =\n  region = ignored-nested\n';
  const credentials = '[eu]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n\n[wrong]\naws_access_key_id = WRONGKEY\naws_secret_access_key = WRONG\n';

  async function signedFor(options: Record<string, RemoteOptionValue>): Promise<{ region?: string; keyId?: string }> {
    const from = server.requests.length;
    await (await open(`s3://${server.bucket}/region`, options)).check();
    const [h] = headersOf(from, 'GET /mlx-test');
    return { region: signedRegion(h!), keyId: signedKeyId(h!) };
  }

  it('the region comes from the option, AWS_REGION, AWS_DEFAULT_REGION, the profile, then us-east-1', async () => {
    expect((await signedFor(KEYS)).region).toBe('us-east-1');
    awsFiles(profiles, credentials);
    expect((await signedFor(KEYS)).region).toBe('ap-south-1');
    process.env.AWS_PROFILE = 'eu';
    expect(await signedFor({})).toEqual({ region: 'eu-west-1', keyId: 'S3RVER' });
    delete process.env.AWS_PROFILE;
    expect(await signedFor({ profile: 'eu' })).toEqual({ region: 'eu-west-1', keyId: 'S3RVER' });
    process.env.AWS_DEFAULT_REGION = 'ca-central-1';
    expect((await signedFor({ profile: 'eu' })).region).toBe('ca-central-1');
    process.env.AWS_REGION = 'sa-east-1';
    expect((await signedFor({ profile: 'eu' })).region).toBe('sa-east-1');
    expect((await signedFor({ profile: 'eu', region: 'us-west-2' })).region).toBe('us-west-2');
  });

  it('keys in the environment win over AWS_PROFILE; the remote profile and keys win over the environment', async () => {
    awsFiles(profiles, credentials);
    // s3rver knows only the key S3RVER: a request signed with WRONGKEY is refused.
    process.env.AWS_PROFILE = 'wrong';
    expect(await rejectionCode(open(`s3://${server.bucket}/p`, {}).then((r) => r.check()))).toBe(E.REMOTE_AUTH);
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    expect((await signedFor({})).keyId).toBe('S3RVER');

    process.env.AWS_ACCESS_KEY_ID = 'WRONGKEY';
    process.env.AWS_PROFILE = 'eu';
    expect(await rejectionCode(open(`s3://${server.bucket}/p`, {}).then((r) => r.check()))).toBe(E.REMOTE_AUTH);
    expect((await signedFor({ profile: 'eu' })).keyId).toBe('S3RVER');
    expect((await signedFor({ profile: 'wrong', ...KEYS })).keyId).toBe('S3RVER');
  });
});

describe('ca_bundle and AWS_CA_BUNDLE', () => {
  let front: https.Server;
  let endpoint: string;
  let caFile: string;

  beforeAll(async () => {
    // A self-signed certificate for 127.0.0.1, made here so nothing secret is checked in.
    caFile = path.join(tmp, 'ca.pem');
    const keyFile = path.join(tmp, 'ca-key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const upstream = new URL(server.endpoint);
    // An https front passing every request on to s3rver.
    front = https.createServer({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(caFile) }, (req, res) => {
      const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      out.on('error', () => res.destroy());
      req.pipe(out);
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    endpoint = `https://127.0.0.1:${(front.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    front.closeAllConnections();
    await new Promise((resolve) => front.close(resolve));
  });

  const viaHttps = (options: Record<string, RemoteOptionValue>) => openRemote(`s3://${server.bucket}/tls`, { endpoint, max_attempts: '1', ...KEYS, ...options }, tmp);

  it('a private CA is refused with a hint, and trusted from the option or the environment', async () => {
    let failure: unknown;
    await (await viaHttps({})).check().catch((err: unknown) => (failure = err));
    expect(failure).toBeInstanceOf(MlxError);
    expect((failure as MlxError).message).toMatch(/certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
    expect((failure as MlxError).hint).toMatch(/ca_bundle or AWS_CA_BUNDLE/);

    // Relative to the base directory, as a relative directory remote is.
    const viaOption = await viaHttps({ ca_bundle: 'ca.pem' });
    await viaOption.put('through-tls', Buffer.from('over https'));
    expect((await viaOption.get('through-tls')).toString()).toBe('over https');

    process.env.AWS_CA_BUNDLE = caFile;
    expect((await (await viaHttps({})).get('through-tls')).toString()).toBe('over https');
    process.env.AWS_CA_BUNDLE = path.join(tmp, 'missing.pem');
    expect(await rejectionCode((await viaHttps({})).check())).toBe(E.BAD_CONFIG);
    // The option wins over the variable.
    expect((await (await viaHttps({ ca_bundle: caFile })).get('through-tls')).toString()).toBe('over https');
  });
});

describe('url forms', () => {
  it('s3://bucket is the bucket root and s3://bucket/p/ the prefix p', async () => {
    await (await open(`s3://${server.bucket}`, KEYS)).put('at-root', Buffer.from('r'));
    await (await open(`s3://${server.bucket}/p/`, KEYS)).put('in-p', Buffer.from('p'));
    expect(fs.existsSync(path.join(server.dir, server.bucket, 'at-root._S3rver_object'))).toBe(true);
    expect(fs.existsSync(path.join(server.dir, server.bucket, 'p/in-p._S3rver_object'))).toBe(true);
  });
});
