import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { EnvRecord } from '../../src/formats/env-record.js';
import { constraintComments, exportEnvironment } from '../../src/run/env-export.js';
import { rebuildPlan } from '../../src/run/rebuild-plan.js';
import { errorCode } from '../helpers/errors.js';

const ENV = `b3:${'e'.repeat(64)}`;
const blobs = new Map<string, string>();
let next = 0;
/** Stores a blob under a made-up oid (the plan only looks blobs up). */
function blob(text: string): string {
  const oid = `b3:${(next++).toString(16).padStart(64, '0')}`;
  blobs.set(oid, text);
  return oid;
}
const readText = (oid: string) => blobs.get(oid);

function record(over: Partial<EnvRecord> = {}): EnvRecord {
  return {
    v: 2,
    os: { platform: 'linux', release: '6.1.0-18-amd64', version: '#1 SMP', arch: 'x64', distro: 'Debian GNU/Linux 12 (bookworm)' },
    kernel: 'Linux 6.1.0-18-amd64',
    cpu: { model: 'AMD EPYC 7B13', count: 8 },
    memory_bytes: 32 * 2 ** 30,
    gpus: [],
    runtimes: { node: '20.11.0', python: '3.11.7' },
    lockfiles: [],
    random_env: {},
    ...over,
  };
}

const UV_LOCK = `version = 1
requires-python = ">=3.11"

[[package]]
name = "numpy"
version = "1.26.4"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "trainer"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "numpy" },
]

[[package]]
name = "tqdm"
version = "4.66.1"
source = { registry = "https://pypi.org/simple" }
`;

describe('rebuildPlan: where the Python packages come from', () => {
  it('prefers the pip freeze; without one, a root uv.lock (the project itself left out) over requirements files', () => {
    const uv = blob(UV_LOCK);
    const req = blob('numpy>=1.20\n');
    const freeze = blob('numpy==1.26.4\ntqdm==4.66.1\n');
    const lockfiles = [{ path: 'requirements.txt', oid: req, size: 1 }, { path: 'sub/uv.lock', oid: blob('[[package]]\nname = "x"\nversion = "1"\n'), size: 1 }, { path: 'uv.lock', oid: uv, size: 1 }];
    expect(rebuildPlan(ENV, record({ lockfiles, pip_freeze: freeze }), readText).python_packages).toEqual({ source: 'pip freeze', oid: freeze, requirements: ['numpy==1.26.4', 'tqdm==4.66.1'] });
    expect(rebuildPlan(ENV, record({ lockfiles }), readText).python_packages).toEqual({ source: 'uv.lock', oid: uv, requirements: ['numpy==1.26.4', 'tqdm==4.66.1'] });
    expect(rebuildPlan(ENV, record({ lockfiles: [lockfiles[0]!] }), readText).python_packages?.requirements).toEqual(['numpy>=1.20']);
  });

  it('reads poetry.lock (path dependencies left out), Pipfile.lock (default section) and a conda pip list', () => {
    const poetry = blob('[[package]]\nname = "torch"\nversion = "2.1.2"\n\n[[package]]\nname = "mylib"\nversion = "0.1.0"\n\n[package.source]\ntype = "directory"\nurl = "../mylib"\n');
    expect(rebuildPlan(ENV, record({ lockfiles: [{ path: 'poetry.lock', oid: poetry, size: 1 }] }), readText).python_packages?.requirements).toEqual(['torch==2.1.2']);
    const pipfile = blob(JSON.stringify({ default: { requests: { version: '==2.31.0' } }, develop: { pytest: { version: '==7.4.0' } } }));
    expect(rebuildPlan(ENV, record({ lockfiles: [{ path: 'Pipfile.lock', oid: pipfile, size: 1 }] }), readText).python_packages?.requirements).toEqual(['requests==2.31.0']);
    const conda = blob('name: exp\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11.7=h1234_0\n  - pip\n  - pip:\n      - einops==0.7.0\n');
    const plan = rebuildPlan(ENV, record({ conda }), readText);
    expect(plan.python_packages).toEqual({ source: 'conda env export (pip)', oid: conda, requirements: ['einops==0.7.0'] });
    expect(plan.conda?.source).toBe('conda env export');
  });

  it('a blob the cache lacks is EOBJECTMISSING naming it', () => {
    const absent = `b3:${'a'.repeat(64)}`;
    expect(errorCode(() => rebuildPlan(ENV, record({ pip_freeze: absent }), readText))).toBe('EOBJECTMISSING');
    expect(() => rebuildPlan(ENV, record({ pip_freeze: absent }), readText)).toThrow(`the pip freeze (${absent}) of environment ${ENV} is not in the cache`);
  });
});

describe('export formats', () => {
  const freeze = blob('-e .\nnumpy==1.26.4\nlocalpkg @ file:///home/alice/wheels/localpkg-1.0-py3-none-any.whl\nmylib @ git+https://example.org/mylib.git@1a2b3c#egg=mylib\n');

  it('states GPU, driver, CUDA, toolchain, container and determinism variables as comments', () => {
    const plan = rebuildPlan(ENV, record({
      gpus: [{ vendor: 'nvidia', name: 'NVIDIA A10', driver: '550.127.05', cuda: '12.4', memory_bytes: 1 }],
      compilers: { gcc: '12.2.0', nvcc: '12.4.131' },
      gpu_libs: { cudnn: '8.9.2.26', nccl: '2.18.1' },
      random_env: { CUBLAS_WORKSPACE_CONFIG: ':4096:8' },
      device_env: { CUDA_VISIBLE_DEVICES: '0' },
      pip_freeze: freeze,
    }), readText, { name: 'train', id: 'r-1234abcd' });
    expect(constraintComments(plan)).toEqual([
      `mlx env export of environment ${ENV} (run train, r-1234abcd)`,
      'python 3.11.7',
      'os: Debian GNU/Linux 12 (bookworm), linux x64, kernel Linux 6.1.0-18-amd64',
      'gpu: nvidia NVIDIA A10, driver 550.127.05, CUDA 12.4 (highest the driver supports)',
      'toolchain: gcc 12.2.0, CUDA toolkit (nvcc) 12.4.131, cuDNN 8.9.2.26, NCCL 2.18.1',
      'the run had: CUBLAS_WORKSPACE_CONFIG=:4096:8 CUDA_VISIBLE_DEVICES=0',
      `packages from: pip freeze (${freeze})`,
    ]);
  });

  it('requirements keep every recorded line; uv and dockerfile leave out what installs only on the recording machine', () => {
    const plan = rebuildPlan(ENV, record({ pip_freeze: freeze }), readText);
    const lines = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines(exportEnvironment(plan, 'requirements'))).toEqual(['-e .', 'numpy==1.26.4', 'localpkg @ file:///home/alice/wheels/localpkg-1.0-py3-none-any.whl', 'mylib @ git+https://example.org/mylib.git@1a2b3c#egg=mylib']);
    const uv = exportEnvironment(plan, 'uv');
    expect(uv).toContain('# not exported (installs only on the recording machine): -e .\n');
    expect(uv).toContain('dependencies = [\n    "numpy==1.26.4",\n    "mylib @ git+https://example.org/mylib.git@1a2b3c#egg=mylib",\n]\n');
    expect(exportEnvironment(plan, 'dockerfile')).toContain("COPY <<'MLX_REQUIREMENTS' /tmp/mlx-requirements.txt\nnumpy==1.26.4\nmylib @ git+https://example.org/mylib.git@1a2b3c#egg=mylib\nMLX_REQUIREMENTS\n");
    // The conda file's pip list is YAML that reads back as the same strings.
    expect(parseYaml(exportEnvironment(plan, 'conda')).dependencies.at(-1).pip).toEqual(plan.python_packages!.requirements);
  });

  it('dockerfile bases: the recorded image by digest, a digest without its repository, a tag, a Debian release', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const from = (over: Partial<EnvRecord>) => exportEnvironment(rebuildPlan(ENV, record(over), readText), 'dockerfile').split('\n').filter((l) => /^(FROM|ARG) /.test(l));
    expect(from({ container: { runtime: 'podman', image: 'docker.io/pytorch/pytorch:2.1.2-cuda12.1-cudnn8-runtime', image_digest: digest } })).toEqual([`FROM docker.io/pytorch/pytorch:2.1.2-cuda12.1-cudnn8-runtime@${digest}`]);
    expect(from({ container: { runtime: 'docker', image_digest: digest } })).toEqual(['ARG BASE_IMAGE', `FROM \${BASE_IMAGE}@${digest}`]);
    expect(from({ container: { runtime: 'apptainer', image: 'python:3.11' } })).toEqual(['FROM python:3.11']);
    expect(from({})).toEqual(['FROM python:3.11.7-slim-bookworm']);
    expect(from({ runtimes: { node: '20.11.0' } })).toEqual(['FROM debian:bookworm-slim']);
    expect(from({ runtimes: { node: '20.11.0' }, os: { platform: 'darwin', release: '23.2.0', version: '', arch: 'arm64' } })).toEqual(['ARG BASE_IMAGE', 'FROM ${BASE_IMAGE}']);
  });

  it('conda: the recorded environment file as it is; without one, python and pip packages', () => {
    const text = 'name: exp\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11.7=h1234_0\n  - numpy=1.26.4=py311h64a7726_0\n';
    const recorded = exportEnvironment(rebuildPlan(ENV, record({ conda: blob(text) }), readText), 'conda');
    expect(recorded.endsWith(`\n${text}`)).toBe(true);
    const made = parseYaml(exportEnvironment(rebuildPlan(ENV, record({ pip_freeze: blob('numpy==1.26.4\n') }), readText), 'conda'));
    expect(made).toEqual({ name: 'mlx-eeeeeeee', channels: ['conda-forge'], dependencies: ['python=3.11.7', 'pip', { pip: ['numpy==1.26.4'] }] });
    expect(errorCode(() => exportEnvironment(rebuildPlan(ENV, record({ runtimes: { node: '20.11.0' } }), readText), 'conda'))).toBe('ENOTRECORDED');
  });
});
