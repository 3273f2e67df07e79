import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mlxJson, mlxOk } from '../helpers/cli.js';
import { bytes, tempDir, useTempRepo, write } from '../helpers/repo.js';

/*
 * The CLI reads pointers and configs in mlx's own form without the yaml library, which it loads from
 * its own file only for anything else. Files edited by hand must read exactly as the form mlx writes.
 */

const repo = useTempRepo((d) => mlxOk(d, 'init'));

describe('pointer and config files edited by hand', () => {
  it('read as the ones mlx wrote: status, config and ls give the same answers', () => {
    const dir = repo();
    write(dir, 'data/my file.bin', bytes(3000, 'a'));
    write(dir, 'model.ckpt', bytes(2000, 'b'));
    mlxOk(dir, 'add', 'data', 'model.ckpt');
    mlxOk(dir, 'config', 'cache.type', 'copy');
    const store = tempDir('mlx-hand-edited-store-');
    mlxOk(dir, 'remote', 'add', '-d', 'store', store);
    const before = { status: mlxJson(dir, 'status'), config: mlxJson(dir, 'config', '--list'), ls: mlxJson(dir, 'ls') };

    const config = path.join(dir, '.mlx', 'config.yaml');
    const written = fs.readFileSync(config, 'utf8');
    const remote = /url: (.*)/.exec(written)![1]!;
    // Comments after values, four-space indents, a flow map, quotes: all outside the form mlx writes.
    fs.writeFileSync(config, `# edited\ncache:\n    type: "copy"   # no reflinks here\ncore: {remote: store}\nremotes:\n    store:\n        url: '${remote}'\n`);
    const pointer = path.join(dir, 'model.ckpt.mlx');
    const p = fs.readFileSync(pointer, 'utf8').split('\n');
    fs.writeFileSync(pointer, [p[0], `path: "model.ckpt"  # the checkpoint`, ...p.slice(3), p[1]].join('\n'));
    fs.writeFileSync(path.join(dir, 'data.mlx'), fs.readFileSync(path.join(dir, 'data.mlx'), 'utf8').replace(/^files: (\d+)$/m, 'files: !!int $1'));

    expect({ status: mlxJson(dir, 'status'), config: mlxJson(dir, 'config', '--list'), ls: mlxJson(dir, 'ls') }).toStrictEqual(before);
  });
});
