import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, expectCleanError, mlx, mlxOk } from '../helpers/cli.js';
import { gitCommitAll, gitInit, tempDir, write } from '../helpers/repo.js';
import { startS3ServerProcess, type S3TestServer } from '../helpers/s3-server.js';

/*
 * A source whose remote is S3: its committed config holds the url and endpoint only, never
 * credentials. The importer reaches it through the same chain as its own remotes: the AWS environment,
 * or the --local options of its own remote with the same url.
 */

let s3: S3TestServer;
let root: string;
let lab: string;
let url: string;

beforeAll(async () => {
  s3 = await startS3ServerProcess();
  root = fs.realpathSync(tempDir('mlx-import-s3-'));
  lab = path.join(root, 'lab');
  fs.mkdirSync(lab);
  await gitInit(lab);
  mlxOk(lab, 'init');
  url = `s3://${s3.bucket}/lab`;
  mlxOk(lab, 'remote', 'add', '-d', 'store', url, '-o', `endpoint=${s3.endpoint}`);
  mlxOk(lab, 'remote', 'modify', '--local', 'store', 'access_key_id', s3.accessKeyId);
  mlxOk(lab, 'remote', 'modify', '--local', 'store', 'secret_access_key', s3.secretAccessKey);
  write(lab, 'weights.bin', 'weights v1\n');
  mlxOk(lab, 'add', 'weights.bin');
  await gitCommitAll(lab, 'weights');
  mlxOk(lab, 'push');
}, 120_000);

afterAll(async () => {
  for (const k of Object.keys(cliEnv)) delete cliEnv[k];
  await s3.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

async function freshImporter(name: string): Promise<string> {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  await gitInit(dir);
  mlxOk(dir, 'init');
  return dir;
}

describe('importing from a source whose remote is S3', () => {
  it('reaches it with the AWS credentials of the environment', async () => {
    const dir = await freshImporter('with-env');
    cliEnv.AWS_ACCESS_KEY_ID = s3.accessKeyId;
    cliEnv.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
    try {
      mlxOk(dir, 'import', '../lab', 'weights.bin');
    } finally {
      delete cliEnv.AWS_ACCESS_KEY_ID;
      delete cliEnv.AWS_SECRET_ACCESS_KEY;
    }
    expect(fs.readFileSync(path.join(dir, 'weights.bin'), 'utf8')).toBe('weights v1\n');
  });

  it('reaches it with the --local credentials of its own remote for the same url, over a wrong key in the environment', async () => {
    const dir = await freshImporter('with-local');
    cliEnv.AWS_ACCESS_KEY_ID = 'WRONGKEY';
    cliEnv.AWS_SECRET_ACCESS_KEY = 'wrong';
    try {
      // The wrong key alone is refused by the server: one line, nothing written.
      const line = expectCleanError(mlx(dir, 'import', '../lab', 'weights.bin'));
      expect(line).toMatch(/^mlx: error: cannot fetch weights\.bin from the remote of repository \.\.\/lab: /);
      expect(fs.existsSync(path.join(dir, 'weights.bin.mlx'))).toBe(false);
      mlxOk(dir, 'remote', 'add', '--local', 'lab', url, '-o', `endpoint=${s3.endpoint}`, '-o', `access_key_id=${s3.accessKeyId}`, '-o', `secret_access_key=${s3.secretAccessKey}`);
      mlxOk(dir, 'import', '../lab', 'weights.bin');
    } finally {
      delete cliEnv.AWS_ACCESS_KEY_ID;
      delete cliEnv.AWS_SECRET_ACCESS_KEY;
    }
    expect(fs.readFileSync(path.join(dir, 'weights.bin'), 'utf8')).toBe('weights v1\n');
  });
});
