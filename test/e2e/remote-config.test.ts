import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { bytes, gitCloneLocal, gitCommitAll, tempDir, useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
});

describe('mlx remote and mlx fetch', () => {
  it('modify, default and remove change the config, and bad names give one clear line', () => {
    const a = tempDir('mlx-ra-');
    const b = tempDir('mlx-rb-');
    try {
      mlxOk(dir, 'remote', 'add', 'a', a);
      mlxOk(dir, 'remote', 'add', 'b', b);
      expect(mlxJson(dir, 'remote', 'list').map((r: any) => [r.name, r.isDefault])).toEqual([['a', false], ['b', false]]);
      mlxOk(dir, 'remote', 'default', 'b');
      expect(mlxJson(dir, 'remote', 'list').find((r: any) => r.isDefault).name).toBe('b');
      mlxOk(dir, 'remote', 'add', 's3', 's3://bucket/exp');
      mlxOk(dir, 'remote', 'modify', 's3', 'endpoint', 'http://127.0.0.1:9');
      expect(fs.readFileSync(path.join(dir, '.mlx/config.yaml'), 'utf8')).toMatch(/endpoint: http:\/\/127\.0\.0\.1:9/);
      mlxOk(dir, 'remote', 'modify', '--unset', 's3', 'endpoint');
      expect(fs.readFileSync(path.join(dir, '.mlx/config.yaml'), 'utf8')).not.toMatch(/endpoint/);
      mlxOk(dir, 'remote', 'remove', 's3');
      mlxOk(dir, 'remote', 'remove', 'b');
      expect(mlxJson(dir, 'remote', 'list').map((r: any) => r.name)).toEqual(['a']);
      expect(fs.readFileSync(path.join(dir, '.mlx/config.yaml'), 'utf8')).not.toMatch(/remote: b/);
      expect(expectCleanError(mlx(dir, 'remote', 'remove', 'nope'))).toMatch(/unknown remote "nope".*known remotes: a/);
      expect(expectCleanError(mlx(dir, 'remote', 'default', 'nope'))).toMatch(/unknown remote "nope"/);
      expect(expectCleanError(mlx(dir, 'remote', 'modify', 'nope', 'region', 'x'))).toMatch(/unknown remote "nope"/);
      expect(expectCleanError(mlx(dir, 'remote', 'add', 'a', b))).toMatch(/remote a exists already/);
      expect(expectCleanError(mlx(dir, 'remote', 'add', 'bad name', b))).toMatch(/invalid remote name/);
      expect(expectCleanError(mlx(dir, 'remote', 'add', 'c', 'ftp://x/y'))).toMatch(/is not supported/);
    } finally {
      fs.rmSync(a, { recursive: true, force: true });
      fs.rmSync(b, { recursive: true, force: true });
    }
  });

  it('fetch fills the cache without touching the work tree; checkout then needs no remote', async () => {
    const store = tempDir('mlx-fetch-');
    const fresh = tempDir('mlx-fetch-fresh-');
    fs.rmSync(fresh, { recursive: true });
    try {
      write(dir, 'data/a.bin', bytes(5000, 'a'));
      write(dir, 'data/b.bin', bytes(5000, 'b'));
      mlxOk(dir, 'add', 'data');
      mlxOk(dir, 'remote', 'add', '-d', 'storage', store);
      mlxOk(dir, 'push');
      await gitCommitAll(dir, 'v1');
      await gitCloneLocal(dir, fresh);
      const res = mlxJson(fresh, 'fetch');
      expect(res).toMatchObject({ remote: 'storage', fetched: 3, missingOnRemote: [] });
      expect(fs.existsSync(path.join(fresh, 'data'))).toBe(false);
      expect(mlxJson(fresh, 'fetch').fetched).toBe(0);
      fs.rmSync(store, { recursive: true });
      mlxOk(fresh, 'checkout');
      expect(fs.readFileSync(path.join(fresh, 'data/b.bin'))).toEqual(bytes(5000, 'b'));
      expect(expectCleanError(mlx(fresh, 'fetch'))).toMatch(/remote directory .* does not exist/);
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  });
});

describe('mlx remote modify checks what mlx remote add -o checks', () => {
  const configFiles = () => ['.mlx/config.yaml', '.mlx/config.local.yaml'].map((f) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8') : undefined));

  it('refuses unknown options, values of the wrong kind and options a directory remote does not take, writing nothing', () => {
    const store = tempDir('mlx-rm-dir-');
    try {
      mlxOk(dir, 'remote', 'add', 's3', 's3://bucket/prefix');
      mlxOk(dir, 'remote', 'add', 'd', store);
      const before = configFiles();
      const cases: [string, string, string, RegExp][] = [
        ['s3', 'bogus', '1', /unknown option bogus/],
        ['s3', 'max_attempts', 'abc', /option max_attempts must be a whole number/],
        ['s3', 'max_attempts', '0', /option max_attempts must be a whole number of at least 1/],
        ['s3', 'page_size', '5000', /option page_size must be a whole number from 1 to 1000/],
        ['s3', 'endpoint', 'not-a-url', /option endpoint must be an http:\/\/ or https:\/\/ url/],
        ['s3', 'endpoint', 'ftp://host/x', /option endpoint must be an http:\/\/ or https:\/\/ url/],
        ['s3', 'checksums', 'sometimes', /option checksums must be when_required or when_supported/],
        ['s3', 'force_path_style', 'maybe', /option force_path_style must be true or false/],
        ['s3', 'url', 'ftp://host/x', /remote url "ftp:\/\/host\/x" is not supported/],
        ['s3', 'url', 's3://', /names no bucket/],
        ['d', 'endpoint', 'http://127.0.0.1:9000', /unknown option endpoint.*this kind of remote takes no options/],
      ];
      for (const [name, key, value, message] of cases) {
        expect(expectCleanError(mlx(dir, 'remote', 'modify', name, key, value)), `${name} ${key} ${value}`).toMatch(message);
        expect(expectCleanError(mlx(dir, 'remote', 'modify', '--local', name, key, value)), `--local ${name} ${key} ${value}`).toMatch(message);
        expect(configFiles()).toEqual(before);
        // The same option given to remote add is refused the same way.
        if (key !== 'url') {
          const url = name === 'd' ? store : 's3://bucket/prefix';
          expect(expectCleanError(mlx(dir, 'remote', 'add', 'fresh', url, '-o', `${key}=${value}`))).toMatch(message);
        }
      }
      expect(expectCleanError(mlx(dir, 'remote', 'modify', '--unset', 's3', 'url'))).toMatch(/remote s3 cannot lose its url/);
      expect(configFiles()).toEqual(before);
      expect(mlxJson(dir, 'remote', 'list').map((r: any) => r.name)).toEqual(['s3', 'd']);
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
    }
  });

  it('stores a valid value as what it means, one spelling per option', () => {
    mlxOk(dir, 'remote', 'add', 's3', 's3://bucket/prefix');
    mlxOk(dir, 'remote', 'modify', 's3', 'maxAttempts', '3');
    mlxOk(dir, 'remote', 'modify', 's3', 'max_attempts', '7');
    mlxOk(dir, 'remote', 'modify', 's3', 'force_path_style', 'yes');
    mlxOk(dir, 'remote', 'modify', 's3', 'endpoint', 'https://minio.example:9000');
    const [remote] = mlxJson(dir, 'remote', 'list');
    expect(remote.options).toEqual({ max_attempts: 7, force_path_style: true, endpoint: 'https://minio.example:9000' });
  });

  it('refuses credentials in the committed config under any spelling, in add and in modify', () => {
    mlxOk(dir, 'remote', 'add', 's3', 's3://bucket/prefix');
    const before = configFiles();
    const names = [
      'secret_access_key', 'secretAccessKey', 'secret-access-key', 'aws_secret_access_key', 'AWS_SECRET_ACCESS_KEY', 'SECRET_ACCESS_KEY', 'SecretAccessKey', 'aws-secret-access-key',
      'access_key_id', 'AWS_ACCESS_KEY_ID', 'AccessKeyId', 'aws_access_key', 'secret_key',
      'session_token', 'AWS_SESSION_TOKEN', 'SessionToken', 'aws-session-token',
    ];
    for (const name of names) {
      expect(expectCleanError(mlx(dir, 'remote', 'modify', 's3', name, 'abc')), name).toMatch(new RegExp(`refusing to write the credential ${name} into the committed config`));
      expect(expectCleanError(mlx(dir, 'remote', 'add', 'other', 's3://bucket/other', '-o', `${name}=abc`)), name).toMatch(/refusing to write the credential/);
      expect(configFiles()).toEqual(before);
    }
    // A committed config that holds one anyway is refused when read.
    write(dir, '.mlx/config.yaml', 'remotes:\n  t:\n    url: s3://b/p\n    AWS_SECRET_ACCESS_KEY: abc\n');
    expect(expectCleanError(mlx(dir, 'remote', 'list'))).toMatch(/holds the credential AWS_SECRET_ACCESS_KEY of remote t; credentials must never be committed/);
  });

  it('keeps credentials for a committed remote in config.local.yaml, masked in the listing', () => {
    mlxOk(dir, 'remote', 'add', 's3', 's3://bucket/prefix');
    mlxOk(dir, 'remote', 'modify', '--local', 's3', 'access_key_id', 'AKID');
    mlxOk(dir, 'remote', 'modify', '--local', 's3', 'secret_access_key', 'very-secret');
    expect(fs.readFileSync(path.join(dir, '.mlx/config.yaml'), 'utf8')).not.toMatch(/AKID|very-secret/);
    expect(fs.readFileSync(path.join(dir, '.mlx/config.local.yaml'), 'utf8')).toMatch(/secret_access_key: very-secret/);
    const [remote] = mlxJson(dir, 'remote', 'list');
    expect(remote).toMatchObject({ name: 's3', url: 's3://bucket/prefix', options: { access_key_id: '***', secret_access_key: '***' } });
    // A misspelt credential is still refused as an unknown option, locally too.
    expect(expectCleanError(mlx(dir, 'remote', 'modify', '--local', 's3', 'aws_secret_access_key', 'x'))).toMatch(/unknown option aws_secret_access_key/);
  });
});

describe('credentials in urls', () => {
  const SECRET = 'hunter2SECRET';
  const configs = () => ['config.yaml', 'config.local.yaml'].map((f) => (fs.existsSync(path.join(dir, '.mlx', f)) ? fs.readFileSync(path.join(dir, '.mlx', f), 'utf8') : ''));

  it('refuses user:secret@ in a remote url or an endpoint, in add and modify, committed or local, writing nothing and printing no secret', () => {
    mlxOk(dir, 'remote', 'add', 's3', 's3://bucket/prefix');
    const before = configs();
    const attempts: string[][] = [
      ['remote', 'add', 'k', `s3://AKIAEXAMPLE:${SECRET}@bucket/p`],
      ['remote', 'add', '--local', 'k', `s3://AKIAEXAMPLE:${SECRET}@bucket/p`],
      ['remote', 'add', 'k', `s3://AKIAEXAMPLE:ab/${SECRET}@bucket/p`],
      ['remote', 'add', 'k', 's3://bucket/p', '-o', `endpoint=http://user:${SECRET}@127.0.0.1:9000`],
      ['remote', 'add', '--local', 'k', 's3://bucket/p', '-o', `endpoint=http://user:${SECRET}@127.0.0.1:9000`],
      ['remote', 'add', 'k', `file://user:${SECRET}@host/data`],
      ['remote', 'modify', 's3', 'endpoint', `http://user:${SECRET}@127.0.0.1:9000`],
      ['remote', 'modify', '--local', 's3', 'endpoint', `https://${SECRET}@minio.example`],
      ['remote', 'modify', 's3', 'url', `s3://AKIAEXAMPLE:${SECRET}@bucket/p`],
    ];
    for (const args of attempts) {
      for (const json of [false, true]) {
        const r = mlx(dir, ...(json ? ['--json'] : []), ...args);
        const line = expectCleanError(r);
        expect(line, args.join(' ')).toMatch(/holds credentials.*hint: .*AWS_ACCESS_KEY_ID.*AWS_PROFILE.*--local/);
        expect(r.stderr + r.stdout, args.join(' ')).not.toContain(SECRET);
        expect(configs(), args.join(' ')).toEqual(before);
      }
    }
  });

  it('a committed config with credentials in a url is refused when read, without printing them', () => {
    for (const entry of [`url: s3://AKIAEXAMPLE:${SECRET}@bucket/p`, `url: s3://bucket/p\n    endpoint: http://user:${SECRET}@127.0.0.1:9000`]) {
      write(dir, '.mlx/config.yaml', `remotes:\n  t:\n    ${entry}\n`);
      for (const args of [['remote', 'list'], ['--json', 'remote', 'list'], ['config', '-l'], ['--json', 'config', '-l'], ['status']]) {
        const r = mlx(dir, ...args);
        expect(expectCleanError(r), args.join(' ')).toMatch(/holds credentials in the (url|endpoint) of remote t.*must never be committed/);
        expect(r.stderr + r.stdout, args.join(' ')).not.toContain(SECRET);
      }
    }
  });

  it('remote list, config -l and --json never print a secret a hand-written local config holds', () => {
    mlxOk(dir, 'remote', 'add', 's3', 's3://bucket/prefix');
    write(
      dir,
      '.mlx/config.local.yaml',
      [
        'remotes:',
        '  s3:',
        `    secret_access_key: ${SECRET}`,
        '    access_key_id: AKIAIOSFODNN7EXAMPLE',
        `    endpoint: http://user:${SECRET}@127.0.0.1:9000/?X-Amz-Signature=${SECRET}&region=x`,
        '    my_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        '  other:',
        `    url: s3://AKIAEXAMPLE:${SECRET}@bucket/p`,
        '',
      ].join('\n'),
    );
    const outputs = [mlxOk(dir, 'remote', 'list').stdout, mlxOk(dir, '--json', 'remote', 'list').stdout, mlxOk(dir, 'config', '-l').stdout, mlxOk(dir, '--json', 'config', '-l').stdout];
    for (const out of outputs) {
      expect(out).not.toContain(SECRET);
      expect(out).not.toContain('AKIAIOSFODNN7EXAMPLE');
      expect(out).not.toContain('wJalrXUtnFEMI');
    }
    const listed = mlxJson(dir, 'remote', 'list');
    expect(listed.find((r: any) => r.name === 'other').url).toBe('s3://***@bucket/p');
    expect(listed.find((r: any) => r.name === 's3').options).toMatchObject({
      secret_access_key: '***',
      endpoint: 'http://***@127.0.0.1:9000/?X-Amz-Signature=***&region=x',
      my_key: '***',
    });
    expect(mlxJson(dir, 'config', '-l')).toMatchObject({ 'remotes.s3.url': 's3://bucket/prefix', 'remotes.s3.secret_access_key': '***', 'remotes.other.url': 's3://***@bucket/p' });
    // And using that remote is refused with the url shown redacted.
    const r = mlx(dir, 'push', '-r', 'other');
    expect(expectCleanError(r)).toMatch(/s3:\/\/\*\*\*@bucket\/p holds credentials/);
    expect(r.stderr).not.toContain(SECRET);
  });
});
