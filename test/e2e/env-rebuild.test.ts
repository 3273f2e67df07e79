import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { tempDir, useTempRepo } from '../helpers/repo.js';

/*
 * The exported environment is tested by using it: a real virtualenv gets tiny wheels built here
 * (no package index is reachable), a run records it, its packages are removed, and the exported
 * requirements put them back — pip freeze must then say exactly what was recorded.
 */

let work: string;
let venv: string;
let wheels: string;
const py = () => path.join(venv, 'bin', 'python');
const pip = (...args: string[]) => execFileSync(py(), ['-m', 'pip', '--disable-pip-version-check', '--no-input', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const install = (...args: string[]) => pip('install', '--no-index', '--find-links', wheels, ...args);
const freeze = () => pip('freeze');

/** Writes a pure-Python wheel (a zip with the package, METADATA, WHEEL and a hashed RECORD) with python's zipfile. */
function buildWheel(name: string, version: string, requires: string[] = []): void {
  const script = `
import base64, hashlib, sys, zipfile
name, version, out = sys.argv[1], sys.argv[2], sys.argv[3]
requires = sys.argv[4:]
info = f"{name}-{version}.dist-info"
files = {
    f"{name}/__init__.py": f"VERSION = {version!r}\\n",
    f"{info}/METADATA": "Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n%s" % (name, version, "".join(f"Requires-Dist: {r}\\n" for r in requires)),
    f"{info}/WHEEL": "Wheel-Version: 1.0\\nGenerator: mlx-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = [f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(t.encode()).digest()).rstrip(b'=').decode()},{len(t.encode())}" for p, t in files.items()]
files[f"{info}/RECORD"] = "\\n".join(record + [f"{info}/RECORD,,"]) + "\\n"
with zipfile.ZipFile(f"{out}/{name}-{version}-py3-none-any.whl", "w") as z:
    for p, t in files.items():
        z.writestr(p, t)
`;
  execFileSync('python3', ['-c', script, name, version, wheels, ...requires]);
}

beforeAll(() => {
  work = tempDir();
  wheels = path.join(work, 'wheels');
  fs.mkdirSync(wheels);
  buildWheel('tinya', '1.0.0');
  buildWheel('tinya', '1.1.0');
  buildWheel('tinyb', '2.0.0', ['tinya']);
  venv = path.join(work, 'venv');
  // The one virtualenv of this file: every test empties and refills it.
  execFileSync('python3', ['-m', 'venv', venv]);
  cliEnv.PATH = `${path.join(venv, 'bin')}${path.delimiter}${process.env.PATH}`;
  cliEnv.VIRTUAL_ENV = venv;
}, 120_000);

afterAll(() => {
  delete cliEnv.PATH;
  delete cliEnv.VIRTUAL_ENV;
  fs.rmSync(work, { recursive: true, force: true });
});

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
  const installed = freeze();
  if (installed === 'tinya==1.0.0\ntinyb==2.0.0\n') return;
  const names = installed.split('\n').filter(Boolean).map((l) => l.split('==')[0]!);
  if (names.length) pip('uninstall', '-y', ...names);
  install('tinya==1.0.0', 'tinyb==2.0.0');
});

/** A run that writes the version of the tinya it imported. */
const TRAIN = ['run', '-n', 'train', '-o', 'out.txt', '--seed', '1', '--', 'python3', '-c', "import tinya; open('out.txt', 'w').write(tinya.VERSION)"];

function recordedFreeze(run: string): string {
  const { record } = mlxJson(dir, 'env', 'show', run);
  const hex = (record.pip_freeze as string).slice(3);
  return fs.readFileSync(path.join(dir, '.mlx/cache/objects', hex.slice(0, 2), hex.slice(2)), 'utf8');
}

const pins = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));

describe('mlx env export, used to rebuild', () => {
  it('a virtualenv rebuilt from the exported requirements has exactly the recorded pip freeze; env check then finds nothing', () => {
    mlxOk(dir, ...TRAIN);
    const recorded = recordedFreeze('train');
    expect(recorded).toBe('tinya==1.0.0\ntinyb==2.0.0\n');
    expect(mlxJson(dir, 'env', 'show', 'train').record.python_env).toEqual({ venv: 'venv' });

    expect(mlxOk(dir, 'env', 'export', 'train', '--format', 'requirements', '-o', 'rebuild.txt').stdout).toMatch(/^wrote rebuild\.txt \(requirements\) from environment b3:[0-9a-f]{8}$/m);
    const exported = fs.readFileSync(path.join(dir, 'rebuild.txt'), 'utf8');
    expect(exported).toMatch(/^# python \d+\.\d+\.\d+$/m);
    expect(exported).toContain('# packages from: pip freeze');

    // Empty the environment, then rebuild it from the export alone: the pins keep tinya at 1.0.0
    // although the wheel folder offers 1.1.0.
    pip('uninstall', '-y', 'tinya', 'tinyb');
    expect(freeze()).toBe('');
    install('-r', path.join(dir, 'rebuild.txt'));
    expect(freeze()).toBe(recorded);

    const check = mlxOk(dir, 'env', 'check', 'train');
    expect(check.stdout).toMatch(/^environment of run train \(r-[0-9a-f]+\): recorded (b3:[0-9a-f]{8}), this machine \1$/m);
    expect(check.stdout).toContain('this machine matches the recorded environment');
  });

  it('env check names the package that changed, exits 1, and repro --verify prints it before the outputs', () => {
    mlxOk(dir, ...TRAIN);
    install('tinya==1.1.0');
    const check = mlx(dir, 'env', 'check', 'train');
    expect(expectCleanError(check)).toMatch(/this machine differs from the recorded environment in 2 place\(s\)/);
    expect(check.stdout).toMatch(/^ {2}pip_freeze: b3:[0-9a-f]{8} → b3:[0-9a-f]{8}$/m);
    expect(check.stdout).toContain('    package tinya: 1.0.0 → 1.1.0');
    const json = JSON.parse(mlx(dir, '--json', 'env', 'check', 'train').stdout);
    expect(json.same).toBe(false);
    expect(json.changes.filter((c: any) => c.package)).toEqual([{ path: 'pip_freeze:tinya', package: 'tinya', from: '1.0.0', to: '1.1.0' }]);

    const verify = mlx(dir, 'repro', '--verify', 'train');
    expect(expectCleanError(verify)).toMatch(/1 output\(s\) of train differ from the recorded run/);
    const lines = verify.stdout.split('\n');
    const envLine = lines.findIndex((l) => l.includes('package tinya: 1.0.0 → 1.1.0'));
    const outLine = lines.findIndex((l) => /^DIFFERS +out\.txt/.test(l));
    expect(envLine).toBeGreaterThan(0);
    expect(outLine).toBeGreaterThan(envLine);
    expect(verify.stdout).toContain('train: outputs differ, on a machine whose environment differs from the recorded one');
    expect(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8')).toBe('1.0.0');
  });

  it('uv, conda, dockerfile and json exports carry the same pins and the interpreter', () => {
    const { run } = mlxJson(dir, ...TRAIN);
    const python = mlxJson(dir, 'env', 'show', 'train').record.runtimes.python as string;
    const recorded = pins(recordedFreeze('train'));

    const uv = mlxOk(dir, 'env', 'export', 'train', '--format', 'uv', '-o', 'pyproject.toml');
    expect(uv.stdout).toContain('wrote pyproject.toml (uv)');
    const project = JSON.parse(execFileSync(py(), ['-c', 'import json, sys, tomllib; print(json.dumps(tomllib.load(open(sys.argv[1], "rb"))))', path.join(dir, 'pyproject.toml')], { encoding: 'utf8' }));
    expect(project.project).toMatchObject({ dependencies: recorded, 'requires-python': `==${python}` });
    expect(project.tool.uv.package).toBe(false);

    const conda = parseYaml(mlxOk(dir, 'env', 'export', run.id, '--format', 'conda').stdout);
    expect(conda.dependencies).toEqual([`python=${python}`, 'pip', { pip: recorded }]);

    const dockerfile = mlxOk(dir, 'env', 'export', 'train', '--format', 'dockerfile').stdout;
    expect(dockerfile.split('\n')[0]).toBe('# syntax=docker/dockerfile:1');
    expect(dockerfile).toMatch(new RegExp(`^FROM python:${python.replace(/\./g, '\\.')}-slim`, 'm'));
    const heredoc = /^COPY <<'MLX_REQUIREMENTS' \/tmp\/mlx-requirements\.txt\n([\s\S]*?)\nMLX_REQUIREMENTS\nRUN python3 -m pip install --no-cache-dir -r \/tmp\/mlx-requirements\.txt\n$/m.exec(dockerfile);
    expect(heredoc?.[1]?.split('\n')).toEqual(recorded);

    const plan = JSON.parse(mlxOk(dir, 'env', 'export', run.env, '--format', 'json').stdout);
    expect(plan).toMatchObject({ env: run.env, python, python_packages: { source: 'pip freeze', requirements: recorded } });
    expect(plan.run).toBeUndefined(); // named by its oid, not by a run
  });

  it('bad inputs end with one clear line and write nothing', () => {
    mlxOk(dir, ...TRAIN);
    expect(expectCleanError(mlx(dir, 'env', 'export', 'train', '--format', 'xml', '-o', 'x.txt'))).toBe('mlx: error: unknown export format "xml": use requirements, conda, uv, dockerfile, json');
    expect(expectCleanError(mlx(dir, 'env', 'export', 'nope', '--format', 'requirements', '-o', 'x.txt'))).toMatch(/no run "nope"/);
    expect(expectCleanError(mlx(dir, 'env', 'check', `b3:${'0'.repeat(64)}`))).toMatch(/environment record b3:0{64} is not in the cache/);
    // An environment without Python: nothing to put in a requirements file.
    const bare = mlxJson(dir, 'env', 'capture');
    const saved = cliEnv.PATH;
    cliEnv.PATH = path.join(dir, 'no-tools');
    try {
      const noPython = mlxJson(dir, 'env', 'capture').oid as string;
      expect(noPython).not.toBe(bare.oid);
      expect(expectCleanError(mlx(dir, 'env', 'export', noPython, '--format', 'requirements', '-o', 'x.txt'))).toMatch(/recorded no Python packages/);
      expect(JSON.parse(mlx(dir, '--json', 'env', 'export', noPython, '--format', 'uv').stdout).error.code).toBe('ENOTRECORDED');
    } finally {
      cliEnv.PATH = saved;
    }
    expect(fs.existsSync(path.join(dir, 'x.txt'))).toBe(false);
  });
});
