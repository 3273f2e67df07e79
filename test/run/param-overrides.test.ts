import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { overrideText, parseOverride, planOverrides, withOverrides } from '../../src/run/param-overrides.js';
import { environmentToRecord, parseSeeds, seedEnvironment } from '../../src/run/seeds.js';
import { E } from '../../src/util/errors.js';
import { errorCode } from '../helpers/errors.js';

describe('-S overrides', () => {
  it('parse as dvc exp run -S takes them: file default params.yaml, Hydra prefixes, value as typed', () => {
    expect(parseOverride('lr=0.01')).toEqual({ file: 'params.yaml', op: 'set', key: ['lr'], valueText: '0.01' });
    expect(parseOverride('conf/train.yaml:+model.dropout=0.1')).toEqual({ file: 'conf/train.yaml', op: 'add', key: ['model', 'dropout'], valueText: '0.1' });
    expect(parseOverride('++url=http://host:80/x')).toEqual({ file: 'params.yaml', op: 'force', key: ['url'], valueText: 'http://host:80/x' });
    expect(parseOverride('~epochs')).toEqual({ file: 'params.yaml', op: 'delete', key: ['epochs'] });
    expect(overrideText(parseOverride('+a.b=[1, 2]'))).toBe('params.yaml:+a.b=[1, 2]');
    for (const bad of ['lr', 'lr=', ':lr=1', '=1', 'a..b=1', 'lr=[1,', '+=1']) expect(errorCode(() => parseOverride(bad)), bad).toBe(E.USAGE);
  });

  it('apply to values in order: set an existing key, add a new one, remove one, values read as YAML', () => {
    const doc = { lr: 0.05, model: { layers: [64] }, epochs: 3 };
    const o = ['lr=1e-3', '+model.act=relu', '++opt.beta=[0.9, 0.99]', 'model.layers=[32, 32]', '~epochs', "+name='007'"].map(parseOverride);
    expect(withOverrides(doc, 'params.yaml', o)).toEqual({ lr: 0.001, model: { layers: [32, 32], act: 'relu' }, opt: { beta: [0.9, 0.99] }, name: '007' });
    expect(doc).toEqual({ lr: 0.05, model: { layers: [64] }, epochs: 3 }); // the input is not changed
  });

  it('refuse a key that is missing (without +), present (with +), or under a value', () => {
    const doc = { lr: 0.05 };
    expect(errorCode(() => withOverrides(doc, 'params.yaml', [parseOverride('lr2=1')]))).toBe(E.BAD_PARAMS);
    expect(errorCode(() => withOverrides(doc, 'params.yaml', [parseOverride('+lr=1')]))).toBe(E.BAD_PARAMS);
    expect(errorCode(() => withOverrides(doc, 'params.yaml', [parseOverride('lr.x=1')]))).toBe(E.BAD_PARAMS);
    expect(errorCode(() => withOverrides(doc, 'params.yaml', [parseOverride('~lr=0.1')]))).toBe(E.BAD_PARAMS);
    expect(withOverrides(doc, 'params.yaml', [parseOverride('~lr=0.05')])).toEqual({});
  });

  it('applied again as a run recorded them, + sets a key the run already added and ~ passes over one already gone', () => {
    const left = { lr: 0.05, beta: 0.9 };
    const recorded = ['+beta=0.8', '~epochs'].map(parseOverride);
    expect(errorCode(() => withOverrides(left, 'params.yaml', recorded))).toBe(E.BAD_PARAMS);
    expect(withOverrides(left, 'params.yaml', recorded, 'again')).toEqual({ lr: 0.05, beta: 0.8 });
    expect(errorCode(() => withOverrides(left, 'params.yaml', [parseOverride('momentum=1')], 'again'))).toBe(E.BAD_PARAMS);
  });

  it('edit a YAML file keeping its comments and flow lists, and a JSON file keeping its indent', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-overrides-'));
    const yaml = path.join(dir, 'params.yaml');
    fs.writeFileSync(yaml, '# training\nlr: 0.05 # learning rate\nlayers: [64, 128]\nepochs: 20\n');
    planOverrides(yaml, 'params.yaml', ['lr=0.01', 'layers=[8]', '~epochs', '+opt.beta=0.9'].map(parseOverride))!();
    expect(fs.readFileSync(yaml, 'utf8')).toBe('# training\nlr: 0.01 # learning rate\nlayers: [8]\nopt:\n  beta: 0.9\n');
    const json = path.join(dir, 'p.json');
    fs.writeFileSync(json, '{\n    "lr": 0.05,\n    "n": 1\n}\n');
    planOverrides(json, 'p.json', [parseOverride('p.json:lr=0.5')])!();
    expect(fs.readFileSync(json, 'utf8')).toBe('{\n    "lr": 0.5,\n    "n": 1\n}\n');
    // Nothing to change: no write.
    expect(planOverrides(json, 'p.json', [parseOverride('p.json:lr=0.5')])).toBeUndefined();
    expect(errorCode(() => planOverrides(path.join(dir, 'none.yaml'), 'none.yaml', [parseOverride('none.yaml:a=1')]))).toBe(E.PATH_NOT_FOUND);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('seeds', () => {
  it('a plain seed and named ones, each exported; determinism switches whenever a seed is given', () => {
    expect(parseSeeds(['42', 'data=7', 'init = 3'])).toEqual({ seed: 42, seeds: { data: 7, init: 3 } });
    expect(parseSeeds([])).toEqual({ seed: null, seeds: {} });
    expect(seedEnvironment(null, {})).toEqual({});
    expect(seedEnvironment(42, { data: 7 })).toEqual({
      MLX_SEED: '42',
      PYTHONHASHSEED: '42',
      PL_GLOBAL_SEED: '42',
      MLX_SEED_DATA: '7',
      TF_DETERMINISTIC_OPS: '1',
      CUBLAS_WORKSPACE_CONFIG: ':4096:8',
    });
    expect(seedEnvironment(null, { data_order: 1 })).toEqual({ MLX_SEED_DATA_ORDER: '1', TF_DETERMINISTIC_OPS: '1', CUBLAS_WORKSPACE_CONFIG: ':4096:8' });
    for (const bad of [['1', '2'], ['data=1', 'data=2'], ['Data=1'], ['1data=1'], ['-1'], ['1.5'], ['x=abc'], ['=3']]) expect(errorCode(() => parseSeeds(bad)), bad.join(' ')).toBe(E.USAGE);
  });

  it('an environment record sees the switches a seed sets but not the seeds, and a shell variable no seed replaced', () => {
    const shell = { PATH: '/bin', PYTHONHASHSEED: '0', MLX_SEED_OTHER: '5' };
    const a = environmentToRecord(shell, 1, { data: 7 });
    const b = environmentToRecord(shell, 2, { data: 8 });
    expect(a).toEqual(b);
    expect(a).toEqual({ PATH: '/bin', MLX_SEED_OTHER: '5', TF_DETERMINISTIC_OPS: '1', CUBLAS_WORKSPACE_CONFIG: ':4096:8' });
    expect(environmentToRecord(shell, null, { data: 7 }).PYTHONHASHSEED).toBe('0');
    expect(environmentToRecord(shell, null, {})).toEqual(shell);
  });
});
