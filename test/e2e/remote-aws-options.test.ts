import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, expectCleanError, finished, mlxOk, mlxSpawn, type RunResult } from '../helpers/cli.js';
import { tempDir, useTempRepo, write } from '../helpers/repo.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

/*
 * The S3 options and url forms through the CLI, as a user sets them: `remote add -o`, then push
 * against s3rver, checking the requests it received and the metadata it stored. The server runs in
 * this process, so every CLI run is asynchronous.
 */

let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3.stop();
});

// init runs synchronously: no request reaches the server then.
const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
const setEnv: string[] = [];
beforeEach(() => {
  dir = repo();
});
afterEach(() => {
  for (const name of setEnv.splice(0)) delete cliEnv[name];
});

function env(vars: Record<string, string>): void {
  for (const [name, value] of Object.entries(vars)) {
    cliEnv[name] = value;
    setEnv.push(name);
  }
}

const run = (cwd: string, ...args: string[]): Promise<RunResult> => finished(mlxSpawn(cwd, ...args));
async function ok(cwd: string, ...args: string[]): Promise<RunResult> {
  const r = await run(cwd, ...args);
  if (r.code !== 0) throw new Error(`mlx ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

const configText = () => ['config.yaml', 'config.local.yaml'].map((f) => (fs.existsSync(path.join(dir, '.mlx', f)) ? fs.readFileSync(path.join(dir, '.mlx', f), 'utf8') : ''));

describe('S3 options through the CLI', () => {
  it('push signs for the profile region and sends sse, storage_class and acl with every upload', async () => {
    const aws = tempDir('mlx-aws-');
    fs.writeFileSync(path.join(aws, 'config'), '[profile team]\nregion = eu-west-1\n');
    fs.writeFileSync(path.join(aws, 'credentials'), '[team]\naws_access_key_id = NOT-USED\naws_secret_access_key = x\n');
    // Keys in the environment win over AWS_PROFILE's; its region still applies.
    env({ AWS_CONFIG_FILE: path.join(aws, 'config'), AWS_SHARED_CREDENTIALS_FILE: path.join(aws, 'credentials'), AWS_PROFILE: 'team', AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey });
    await ok(dir, 'remote', 'add', '-d', 'storage', `s3://${s3.bucket}/cli/`, '-o', `endpoint=${s3.endpoint}`, 'storage_class=ONEZONE_IA', 'sse=AES256', 'acl=bucket-owner-full-control');
    write(dir, 'data/a.txt', 'alpha\n');
    write(dir, 'data/b.bin', Buffer.alloc(300_000, 7));
    await ok(dir, 'add', 'data');
    const from = s3.requests.length;
    await ok(dir, 'push');

    const uploads = s3.requests.flatMap((r, i) => (i >= from && /^(PUT|POST) \/mlx-test\/cli\//.test(r) && !r.includes('uploadId=') ? [i] : []));
    expect(uploads.length).toBeGreaterThan(1);
    for (const i of uploads) {
      const h = s3.requestHeaders[i]!;
      expect(h['x-amz-server-side-encryption'], s3.requests[i]).toBe('AES256');
      expect(h['x-amz-storage-class'], s3.requests[i]).toBe('ONEZONE_IA');
      expect(h['x-amz-acl'], s3.requests[i]).toBe('bucket-owner-full-control');
    }
    const regions = new Set(s3.requestHeaders.slice(from).map((h) => /Credential=S3RVER\/\d{8}\/([^/]+)\//.exec(h.authorization ?? '')?.[1]));
    expect([...regions]).toEqual(['eu-west-1']);
    const metadata = (fs.readdirSync(path.join(s3.dir, s3.bucket, 'cli'), { recursive: true }) as string[]).filter((f) => f.endsWith('._S3rver_metadata.json'));
    expect(metadata.length).toBe(uploads.length);
    for (const f of metadata) expect(JSON.parse(fs.readFileSync(path.join(s3.dir, s3.bucket, 'cli', f), 'utf8'))['x-amz-storage-class']).toBe('ONEZONE_IA');
  });

  it('a bad option value is one line and writes nothing', async () => {
    const before = configText();
    for (const option of ['sse=aes', 'storage_class=GLACIER', 'acl=world']) {
      const r = await run(dir, 'remote', 'add', 'x', `s3://${s3.bucket}/p`, '-o', option);
      expect(expectCleanError(r)).toMatch(new RegExp(`option ${option.split('=')[0]} must be`));
    }
    expect(configText()).toEqual(before);
  });
});

describe('remote urls as users type them', () => {
  it('s3://bucket and s3://bucket/prefix/ are S3 remotes', async () => {
    await ok(dir, 'remote', 'add', 'root', `s3://${s3.bucket}`);
    await ok(dir, 'remote', 'add', 'slash', `s3://${s3.bucket}/team/`);
    const listed = JSON.parse((await ok(dir, '--json', 'remote', 'list')).stdout) as Array<{ name: string; url: string }>;
    expect(listed.map((r) => [r.name, r.url])).toEqual([['root', `s3://${s3.bucket}`], ['slash', `s3://${s3.bucket}/team/`]]);
  });

  it('a url without a scheme that is no existing directory is refused, and nothing is created', async () => {
    const before = configText();
    const r = await run(dir, 'remote', 'add', 'u', 'bucket/p');
    expect(expectCleanError(r)).toMatch(/remote url "bucket\/p" has no scheme and is not an existing directory/);
    expect(r.stderr).toMatch(/s3:\/\/bucket\/p/);
    expect(fs.existsSync(path.join(dir, 'bucket'))).toBe(false);
    expect(configText()).toEqual(before);
    // An existing folder by a bare name is still a directory remote.
    fs.mkdirSync(path.join(dir, 'shared'));
    await ok(dir, 'remote', 'add', 'here', 'shared');
  });

  it('~ is the home directory, never a folder named ~; ~user is refused', async () => {
    const home = tempDir('mlx-home-');
    env({ HOME: home });
    await ok(dir, 'remote', 'add', 'h', '~/mlx-store');
    expect(fs.statSync(path.join(home, 'mlx-store')).isDirectory()).toBe(true);
    expect(fs.existsSync(path.join(dir, '~'))).toBe(false);
    expect(expectCleanError(await run(dir, 'remote', 'add', 'o', '~other/x'))).toMatch(/only ~ and ~\/ are expanded/);
    expect(fs.existsSync(path.join(dir, '~other'))).toBe(false);
    expect(os.homedir()).not.toBe(home); // this process's home was left alone
  });
});
