import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { detectContainer } from '../../src/run/container.js';
import { captureEnvironment } from '../../src/run/environment.js';
import { deviceEnv, distributedEnv, pythonEnv } from '../../src/run/process-settings.js';
import { clangVersion, gccVersion, gpuLibraries, nvccVersion } from '../../src/run/toolchain.js';
import type { ObjectStore } from '../../src/store/object-store.js';
import { useTempStore, write } from '../helpers/repo.js';

const TOOL_OUTPUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/tool-output');
const captured = (name: string) => fs.readFileSync(path.join(TOOL_OUTPUT, name), 'utf8');

const temp = useTempStore('.mlx/cache');
let dir: string;
let store: ObjectStore;
beforeEach(() => {
  dir = temp.dir();
  store = temp.store();
});

/** A folder of fake tools that print what the real ones printed; the only folder on PATH. */
function fakeTools(tools: Record<string, string>): string {
  const bin = path.join(dir, 'fake-bin');
  fs.mkdirSync(bin, { recursive: true });
  for (const [name, script] of Object.entries(tools)) fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return bin;
}

const NVIDIA_SMI = `case "$1" in --query-gpu=*) exec /bin/cat '${TOOL_OUTPUT}/nvidia-smi--query-gpu.csv';; *) exec /bin/cat '${TOOL_OUTPUT}/nvidia-smi.txt';; esac`;
const printing = (file: string) => `exec /bin/cat '${TOOL_OUTPUT}/${file}'`;

describe('toolchain and GPU probes, against real tool output', () => {
  it('records the GPU, driver and CUDA from nvidia-smi, and gcc, clang and nvcc versions', async () => {
    const bin = fakeTools({ 'nvidia-smi': NVIDIA_SMI, nvcc: printing('nvcc--version.txt'), gcc: printing('gcc--version.txt'), clang: printing('clang--version.txt') });
    const { record, warnings } = await captureEnvironment({ root: dir, store, env: { PATH: bin } });
    expect(warnings).toEqual([]);
    expect(record.gpus).toEqual([{ vendor: 'nvidia', name: 'NVIDIA A10', driver: '550.127.05', memory_bytes: 23028 * 1048576, cuda: '12.4' }]);
    expect(record.compilers).toEqual({ gcc: '12.2.0', clang: '14.0.6', nvcc: '13.0.88' });
  });

  it('finds nvcc in CUDA_HOME when it is not on PATH, and cuDNN and NCCL from their headers', async () => {
    const cuda = path.join(dir, 'cuda');
    fs.mkdirSync(path.join(cuda, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(cuda, 'bin', 'nvcc'), `#!/bin/sh\n${printing('nvcc--version.txt')}\n`, { mode: 0o755 });
    write(cuda, 'include/cudnn_version.h', '#ifndef CUDNN_VERSION_H_\n#define CUDNN_MAJOR 9\n#define CUDNN_MINOR 1\n#define CUDNN_PATCHLEVEL 0\n#define CUDNN_VERSION (CUDNN_MAJOR * 10000 + CUDNN_MINOR * 100 + CUDNN_PATCHLEVEL)\n#endif\n');
    write(cuda, 'include/nccl.h', '#define NCCL_MAJOR 2\n#define NCCL_MINOR 21\n#define NCCL_PATCH 5\n#define NCCL_SUFFIX ""\n');
    const { record, warnings } = await captureEnvironment({ root: dir, store, env: { PATH: path.join(dir, 'no-tools'), CUDA_HOME: cuda } });
    expect(warnings).toEqual([]);
    expect(record.compilers).toEqual({ nvcc: '13.0.88' });
    expect(record.gpu_libs).toEqual({ cudnn: '9.1.0', nccl: '2.21.5' });
    expect(JSON.stringify(record)).not.toContain(dir);
  });

  it('a compiler that fails is a warning and absent, not a wrong version', async () => {
    const bin = fakeTools({ gcc: 'echo "gcc: error: broken install" >&2; exit 1' });
    const { record, warnings } = await captureEnvironment({ root: dir, store, env: { PATH: bin } });
    expect(record.compilers).toBeUndefined();
    expect(warnings).toEqual(['gcc --version failed (gcc: error: broken install); the environment record lacks its output']);
  });

  it('parses the version lines compilers print', () => {
    expect(gccVersion(captured('gcc--version.txt'))).toBe('12.2.0');
    expect(gccVersion('gcc (GCC) 13.2.1 20231205 (Red Hat 13.2.1-6)\n')).toBe('13.2.1');
    expect(clangVersion('Apple clang version 15.0.0 (clang-1500.1.0.2.5)\nTarget: arm64-apple-darwin23.2.0\n')).toBe('15.0.0');
    expect(nvccVersion(captured('nvcc--version.txt'))).toBe('13.0.88');
    expect(nvccVersion('not nvcc')).toBeUndefined();
  });

  it('takes cuDNN and NCCL from the pip wheels frameworks load before the system headers', () => {
    const include = path.join(dir, 'include');
    write(include, 'cudnn.h', '#define CUDNN_MAJOR 7\n#define CUDNN_MINOR 6\n#define CUDNN_PATCHLEVEL 5\n');
    const freeze = 'numpy==1.26.4\nnvidia-cudnn-cu12==8.9.2.26\nnvidia-nccl-cu12==2.18.1\ntorch==2.1.2\n';
    expect(gpuLibraries(freeze, [include])).toEqual({ cudnn: '8.9.2.26', nccl: '2.18.1' });
    expect(gpuLibraries('numpy==1.26.4\n', [include])).toEqual({ cudnn: '7.6.5' });
    expect(gpuLibraries(undefined, [path.join(dir, 'nothing')])).toEqual({});
  });
});

describe('process settings', () => {
  it('records visible devices, distributed placement (addresses only as present) and the active Python environment', async () => {
    const env = {
      PATH: path.join(dir, 'no-tools'),
      CUDA_VISIBLE_DEVICES: '0,1',
      WORLD_SIZE: '4',
      RANK: '1',
      LOCAL_RANK: '1',
      MASTER_ADDR: '10.1.2.3',
      MASTER_PORT: '29500',
      VIRTUAL_ENV: path.join(dir, '.venv'),
      CONDA_DEFAULT_ENV: 'base',
      TF_DETERMINISTIC_OPS: '1',
      MLX_SEED_DATA: '7',
    };
    const { record } = await captureEnvironment({ root: dir, store, env });
    expect(record.device_env).toEqual({ CUDA_VISIBLE_DEVICES: '0,1' });
    expect(record.distributed).toEqual({ WORLD_SIZE: '4', RANK: '1', LOCAL_RANK: '1', MASTER_ADDR: 'set', MASTER_PORT: 'set' });
    expect(record.python_env).toEqual({ venv: '.venv', conda: 'base' });
    expect(record.random_env).toEqual({ TF_DETERMINISTIC_OPS: '1', MLX_SEED_DATA: '7' });
    const bytes = store.readBytes((await captureEnvironment({ root: dir, store, env })).oid).toString();
    expect(bytes).not.toContain('10.1.2.3');
    expect(bytes).not.toContain('29500');
    expect(bytes).not.toContain(dir);
  });

  it('names a virtualenv outside the project and a conda environment activated by path by their folders', () => {
    expect(pythonEnv({ VIRTUAL_ENV: '/home/alice/venvs/torch' }, '/home/alice/proj')).toEqual({ venv: 'torch' });
    expect(pythonEnv({ CONDA_PREFIX: '/opt/conda/envs/train' }, '/p')).toEqual({ conda: 'train' });
    expect(pythonEnv({ CONDA_DEFAULT_ENV: '/scratch/envs/exp1' }, '/p')).toEqual({ conda: 'exp1' });
    expect(pythonEnv({}, '/p')).toBeUndefined();
    expect(deviceEnv({})).toBeUndefined();
    expect(distributedEnv({ SLURM_NTASKS: '8', SLURM_PROCID: '3' })).toEqual({ SLURM_NTASKS: '8', SLURM_PROCID: '3' });
  });
});

describe('container detection', () => {
  const files = () => ({ containerenv: path.join(dir, 'containerenv'), dockerenv: path.join(dir, 'dockerenv'), cgroup: path.join(dir, 'cgroup'), apptainer: path.join(dir, 'singularity.d') });
  const digest = `sha256:${'ab'.repeat(32)}`;

  it("reads podman's image reference, its digest when started by digest, and the image id", () => {
    write(dir, 'containerenv', `engine="podman-4.9.3"\nname="job-17"\nid="${'c'.repeat(64)}"\nimage="docker.io/library/python@${digest}"\nimageid="${'d'.repeat(64)}"\nrootless=1\n`);
    expect(detectContainer({}, files())).toEqual({ runtime: 'podman', image: 'docker.io/library/python', image_digest: digest, image_id: 'd'.repeat(64) });
  });

  it('takes MLX_IMAGE_DIGEST as a digest or a repo@digest reference; apptainer images by file name', () => {
    write(dir, 'dockerenv', '');
    expect(detectContainer({ MLX_IMAGE_DIGEST: digest }, files())).toEqual({ runtime: 'docker', image_digest: digest });
    expect(detectContainer({ MLX_IMAGE_DIGEST: `ghcr.io/lab/train@${digest}` }, files())).toEqual({ runtime: 'docker', image: 'ghcr.io/lab/train', image_digest: digest });
    fs.rmSync(path.join(dir, 'dockerenv'));
    expect(detectContainer({ APPTAINER_CONTAINER: '/home/alice/images/pytorch_24.01.sif' }, files())).toEqual({ runtime: 'apptainer', image: 'pytorch_24.01.sif' });
    expect(detectContainer({}, files())).toBeUndefined();
  });
});
