import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { MEMORY_GRANULE, parseEnvRecord, referencedOids, serializeEnvRecord, type EnvRecord } from '../../src/formats/env-record.js';
import { ObjectStore } from '../../src/store/object-store.js';
import { diffEnvironments } from '../../src/run/env-diff.js';
import { checkEnvironment } from '../../src/run/env-check.js';
import { captureEnvironment, findLockfiles, readEnvRecord, resolveEnvRecord } from '../../src/run/environment.js';
import { useTempStore, write } from '../helpers/repo.js';
import { errorCode } from '../helpers/errors.js';

const temp = useTempStore('.mlx/cache');
let dir: string;
let store: ObjectStore;
beforeEach(() => {
  dir = temp.dir();
  store = temp.store();
});

/** A minimal valid record to vary by hand. */
function record(over: Partial<EnvRecord> = {}): EnvRecord {
  return {
    v: 1,
    os: { platform: 'linux', release: '6.1.0-18-amd64', version: '#1 SMP', arch: 'x64', distro: 'Debian GNU/Linux 12 (bookworm)' },
    kernel: 'Linux 6.1.0-18-amd64',
    cpu: { model: 'AMD EPYC 7B13', count: 8, flags: ['avx', 'avx2', 'fma'] },
    memory_bytes: 32 * 2 ** 30,
    gpus: [{ vendor: 'nvidia', name: 'NVIDIA A100-SXM4-40GB', driver: '535.104.05', memory_bytes: 40960 * 1048576, cuda: '12.2' }],
    runtimes: { node: '20.11.0', python: '3.11.7' },
    lockfiles: [],
    random_env: { PYTHONHASHSEED: '0' },
    ...over,
  };
}

describe('captureEnvironment', () => {
  it('gives the same oid for the same machine, and stores the record and lockfiles as verified objects', async () => {
    write(dir, 'requirements.txt', 'numpy==1.26.0\ntorch==2.1.0\n');
    write(dir, 'sub/uv.lock', '[[package]]\nname = "numpy"\nversion = "1.26.0"\n');
    write(dir, 'sub/deeper/poetry.lock', 'two levels down: not looked at');
    const env = { ...process.env, PYTHONHASHSEED: '42', CUBLAS_WORKSPACE_CONFIG: ':4096:8', HOSTNAME: 'host-a' };
    const first = await captureEnvironment({ root: dir, store, env });
    const second = await captureEnvironment({ root: dir, store, env: { ...env, HOSTNAME: 'host-b' } });
    expect([...first.warnings, ...second.warnings]).toEqual([]);
    expect(diffEnvironments(first.record, second.record)).toEqual([]);
    expect(second.oid).toBe(first.oid);
    expect(readEnvRecord(store, first.oid)).toEqual(first.record);

    const r = first.record;
    expect(r.v).toBe(2);
    expect(r.runtimes.node).toBe(process.versions.node);
    expect(r.cpu.count).toBeGreaterThan(0);
    expect(r.memory_bytes % MEMORY_GRANULE).toBe(0);
    expect(referencedOids(r)).toEqual([...r.lockfiles.map((l) => l.oid), ...(r.pip_freeze ? [r.pip_freeze] : [])]);
    expect(r.random_env).toEqual({ PYTHONHASHSEED: '42', CUBLAS_WORKSPACE_CONFIG: ':4096:8' });
    expect(r.lockfiles.map((l) => l.path)).toEqual(['requirements.txt', 'sub/uv.lock']);
    const req = r.lockfiles[0]!;
    expect(req.size).toBe(27);
    expect(store.readBytes(req.oid).toString()).toBe('numpy==1.26.0\ntorch==2.1.0\n');
    // Nothing host- or moment-specific in the stored bytes.
    const bytes = store.readBytes(first.oid).toString();
    expect(bytes).not.toContain('host-a');
    expect(bytes).not.toContain(dir);
    if (r.pip_freeze) expect(store.has(r.pip_freeze)).toBe(true);
  });

  it('a changed lockfile or randomness variable changes the oid; absent tools are simply left out', async () => {
    // A PATH without python, pip or GPU tools: the probes find nothing, quickly.
    const bare = { PATH: path.join(dir, 'no-tools') };
    write(dir, 'requirements.txt', 'numpy==1.26.0\n');
    const a = await captureEnvironment({ root: dir, store, env: { ...bare, PYTHONHASHSEED: '0' } });
    expect(a.warnings).toEqual([]);
    expect(a.record).toMatchObject({ gpus: [], runtimes: { node: process.versions.node } });
    expect(a.record.runtimes.python).toBeUndefined();
    expect(a.record.pip_freeze).toBeUndefined();
    write(dir, 'requirements.txt', 'numpy==1.26.4\n');
    const b = await captureEnvironment({ root: dir, store, env: { ...bare, PYTHONHASHSEED: '0' } });
    const c = await captureEnvironment({ root: dir, store, env: { ...bare, PYTHONHASHSEED: '1' } });
    expect(new Set([a.oid, b.oid, c.oid]).size).toBe(3);
    const changes = diffEnvironments(a.record, b.record, (oid) => store.readBytes(oid));
    expect(changes.filter((ch) => ch.package)).toEqual([{ path: 'lockfiles/requirements.txt:numpy', package: 'numpy', from: '1.26.0', to: '1.26.4' }]);
  });
});

describe('findLockfiles', () => {
  it('looks in the root and one level down, skipping hidden, node_modules and mlx-tracked folders', () => {
    for (const f of ['Cargo.lock', 'requirements-dev.txt', 'notes.txt', 'a/package-lock.json', 'requirements/base.txt', '.venv/requirements.txt', 'node_modules/yarn.lock', 'data/requirements.txt', 'a/b/uv.lock']) write(dir, f, 'x');
    write(dir, 'data.mlx', 'pointer');
    expect(findLockfiles(dir)).toEqual(['Cargo.lock', 'a/package-lock.json', 'requirements-dev.txt', 'requirements/base.txt']);
  });
});

describe('diffEnvironments', () => {
  it('lists changed fields by flat path', () => {
    const a = record();
    const b = record({
      runtimes: { node: '20.11.0', python: '3.12.1' },
      gpus: [{ ...a.gpus[0]!, driver: '550.54.15', cuda: '12.4' }],
      cpu: { ...a.cpu, flags: ['avx', 'avx2', 'avx512f', 'fma'] },
      random_env: {},
      container: { runtime: 'docker', image_digest: 'sha256:abc' },
    });
    expect(diffEnvironments(a, b)).toEqual([
      { path: 'cpu.flags', from: ['avx', 'avx2', 'fma'], to: ['avx', 'avx2', 'avx512f', 'fma'] },
      { path: 'gpus[0].cuda', from: '12.2', to: '12.4' },
      { path: 'gpus[0].driver', from: '535.104.05', to: '550.54.15' },
      { path: 'runtimes.python', from: '3.11.7', to: '3.12.1' },
      { path: 'container', from: null, to: { runtime: 'docker', image_digest: 'sha256:abc' } },
      { path: 'random_env.PYTHONHASHSEED', from: '0', to: null },
    ]);
    expect(diffEnvironments(a, record())).toEqual([]);
  });

  it('reports package changes inside lockfiles and pip freeze whose blobs changed', () => {
    const blobs = new Map<string, string>();
    const put = (text: string) => {
      const oid = store.putBytes(Buffer.from(text));
      blobs.set(oid, text);
      return oid;
    };
    const reqA = put('# pinned\nnumpy==1.26.0\nscipy==1.11.0\nPyYAML==6.0 ; python_version >= "3.8"\n');
    const reqB = put('numpy==1.26.4\npyyaml==6.0\ntorch==2.1.0 \\\n    --hash=sha256:00\n');
    const lockA = put('[[package]]\nname = "numpy"\nversion = "1.26.0"\n\n[package.dependencies]\nversion = "not this"\n');
    const lockB = put('[[package]]\nname = "numpy"\nversion = "1.26.4"\n');
    const a = record({ lockfiles: [{ path: 'requirements.txt', oid: reqA, size: 1 }, { path: 'uv.lock', oid: lockA, size: 1 }], pip_freeze: put('numpy==1.26.0\n') });
    const b = record({ lockfiles: [{ path: 'requirements.txt', oid: reqB, size: 1 }, { path: 'uv.lock', oid: lockB, size: 1 }, { path: 'yarn.lock', oid: put('y'), size: 1 }] });
    const changes = diffEnvironments(a, b, (oid) => (blobs.has(oid) ? Buffer.from(blobs.get(oid)!) : undefined));
    expect(changes).toEqual([
      { path: 'lockfiles/requirements.txt', from: reqA, to: reqB },
      { path: 'lockfiles/requirements.txt:numpy', package: 'numpy', from: '1.26.0', to: '1.26.4' },
      { path: 'lockfiles/requirements.txt:scipy', package: 'scipy', from: '1.11.0', to: null },
      { path: 'lockfiles/requirements.txt:torch', package: 'torch', from: null, to: '2.1.0' },
      { path: 'lockfiles/uv.lock', from: lockA, to: lockB },
      { path: 'lockfiles/uv.lock:numpy', package: 'numpy', from: '1.26.0', to: '1.26.4' },
      { path: 'lockfiles/yarn.lock', from: null, to: expect.stringMatching(/^b3:/) },
      { path: 'pip_freeze', from: a.pip_freeze, to: null },
    ]);
    // Without blob access only the oid changes are reported.
    expect(diffEnvironments(a, b).every((c) => c.package === undefined)).toBe(true);
  });
});

describe('environment record format', () => {
  it('serialises canonically: key order and lockfile order do not matter, absent fields are left out', () => {
    const a = record({ lockfiles: [{ path: 'b.txt', oid: `b3:${'1'.repeat(64)}`, size: 1 }, { path: 'a/uv.lock', oid: `b3:${'2'.repeat(64)}`, size: 2 }] });
    const reordered = Object.fromEntries(Object.entries({ ...a, lockfiles: [...a.lockfiles].reverse() }).reverse()) as EnvRecord;
    expect(serializeEnvRecord(reordered)).toBe(serializeEnvRecord(a));
    expect(serializeEnvRecord({ ...a, conda: undefined })).toBe(serializeEnvRecord(a));
    expect(serializeEnvRecord(a)).not.toContain('\n');
    expect(parseEnvRecord(serializeEnvRecord(a), 'test')).toEqual(parseEnvRecord(serializeEnvRecord(reordered), 'test'));
  });

  it('reads version 1 records as they were stored, and serialises them to the same bytes (so the same oid)', () => {
    const v1 = '{"cpu":{"count":8,"model":"AMD EPYC 7B13"},"gpus":[],"kernel":"Linux 6.1.0-18-amd64","lockfiles":[],"memory_bytes":34359738368,"os":{"arch":"x64","platform":"linux","release":"6.1.0-18-amd64","version":"#1 SMP"},"random_env":{},"runtimes":{"node":"20.11.0"},"v":1}';
    const r = parseEnvRecord(v1, 'old');
    expect(r.v).toBe(1);
    expect(r.compilers).toBeUndefined();
    expect(serializeEnvRecord(r)).toBe(v1);
    const v2 = record({ v: 2, compilers: { gcc: '12.2.0', nvcc: '12.4.131' }, gpu_libs: { cudnn: '8.9.2.26' }, device_env: { CUDA_VISIBLE_DEVICES: '0' }, python_env: { venv: '.venv' }, distributed: { WORLD_SIZE: '2', MASTER_ADDR: 'set' }, container: { runtime: 'podman', image: 'python', image_digest: 'sha256:00' } });
    expect(parseEnvRecord(serializeEnvRecord(v2), 'new')).toEqual(v2);
  });

  it('rejects malformed records with EBADENVRECORD', () => {
    const good = JSON.parse(serializeEnvRecord(record())) as Record<string, unknown>;
    const bad: unknown[] = [
      'not json',
      { ...good, v: 3 },
      { ...good, compilers: { gcc: '12.2.0' } },
      { ...good, hostname: 'box' },
      { ...good, memory_bytes: -1 },
      { ...good, cpu: { model: 'x', count: 0 } },
      { ...good, gpus: [{ vendor: 'nvidia', name: 'x' }] },
      { ...good, lockfiles: [{ path: '../etc/passwd', oid: `b3:${'1'.repeat(64)}`, size: 1 }] },
      { ...good, lockfiles: [{ path: 'a.txt', oid: 'sha256:00', size: 1 }] },
      { ...good, lockfiles: [{ path: 'a.txt', oid: `b3:${'1'.repeat(64)}`, size: 1 }, { path: 'a.txt', oid: `b3:${'2'.repeat(64)}`, size: 1 }] },
      { ...good, random_env: { PYTHONHASHSEED: 0 } },
      { ...good, runtimes: { python: '3.11' } },
    ];
    for (const raw of bad) expect(errorCode(() => parseEnvRecord(typeof raw === 'string' ? raw : JSON.stringify(raw), 'test'))).toBe('EBADENVRECORD');
    expect(errorCode(() => serializeEnvRecord({ ...record(), memory_bytes: 1.5 }))).toBe('EBADENVRECORD');
  });
});

describe('resolveEnvRecord', () => {
  it('accepts full oids and unique b3: prefixes of 8+ hex digits; an absent one is EOBJECTMISSING naming the record', () => {
    const oid = store.putBytes(Buffer.from(serializeEnvRecord(record())));
    expect(resolveEnvRecord(store, oid)).toBe(oid);
    expect(resolveEnvRecord(store, oid.slice(0, 11))).toBe(oid);
    expect(errorCode(() => resolveEnvRecord(store, oid.slice(0, 10)))).toBe('EBADOID');
    const absent = oid.startsWith('b3:0') ? `b3:${'1'.repeat(64)}` : `b3:${'0'.repeat(64)}`;
    expect(errorCode(() => resolveEnvRecord(store, absent))).toBe('EOBJECTMISSING');
    expect(() => resolveEnvRecord(store, absent.slice(0, 11).toUpperCase())).toThrow(`environment record ${absent.slice(0, 11)} is not in the cache`);
  });

  it('a blob that is not an environment record is refused when read as one', () => {
    const oid = store.putBytes(Buffer.from('numpy==1.0\n'));
    expect(errorCode(() => readEnvRecord(store, oid))).toBe('EBADENVRECORD');
  });
});

describe('checkEnvironment', () => {
  it('finds nothing on the same machine, names what changed, and does not count what a v1 record could not hold', async () => {
    const env = { PATH: path.join(dir, 'no-tools'), CUDA_VISIBLE_DEVICES: '0', WORLD_SIZE: '2' };
    write(dir, 'requirements.txt', 'numpy==1.26.0\n');
    const now = await captureEnvironment({ root: dir, store, env });
    expect(await checkEnvironment({ root: dir, store, env }, now.oid)).toMatchObject({ recorded: now.oid, current: now.oid, changes: [], same: true });

    // The same machine as an older mlx recorded it: no device_env, distributed, compilers; version 1.
    const r = now.record;
    expect([r.device_env, r.distributed]).toEqual([{ CUDA_VISIBLE_DEVICES: '0' }, { WORLD_SIZE: '2' }]);
    const v1Fields = { os: r.os, kernel: r.kernel, cpu: r.cpu, memory_bytes: r.memory_bytes, gpus: r.gpus, runtimes: r.runtimes, lockfiles: r.lockfiles, random_env: r.random_env };
    const v1 = store.putBytes(Buffer.from(serializeEnvRecord({ v: 1, ...v1Fields, container: r.container && { runtime: r.container.runtime } })));
    expect((await checkEnvironment({ root: dir, store, env }, v1)).changes).toEqual([]);

    write(dir, 'requirements.txt', 'numpy==1.26.4\n');
    const changed = await checkEnvironment({ root: dir, store, env }, now.oid, { ...env, PYTHONHASHSEED: '3' });
    expect(changed.same).toBe(false);
    expect(changed.changes).toEqual([
      { path: 'random_env.PYTHONHASHSEED', from: null, to: '3' },
      { path: 'lockfiles/requirements.txt', from: now.record.lockfiles[0]!.oid, to: expect.stringMatching(/^b3:/) },
      { path: 'lockfiles/requirements.txt:numpy', package: 'numpy', from: '1.26.0', to: '1.26.4' },
    ]);
  });
});
