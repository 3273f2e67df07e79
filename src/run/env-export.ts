import { notRecorded } from '../util/errors.js';
import type { RebuildPlan } from './rebuild-plan.js';

/** The files `mlx env export` writes. */
export const EXPORT_FORMATS = ['requirements', 'conda', 'uv', 'dockerfile', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The text of one export format; each ends with a newline. */
export function exportEnvironment(plan: RebuildPlan, format: ExportFormat): string {
  switch (format) {
    case 'requirements':
      return requirementsFile(plan);
    case 'conda':
      return condaFile(plan);
    case 'uv':
      return uvProject(plan);
    case 'dockerfile':
      return dockerfile(plan);
    case 'json':
      return `${JSON.stringify(plan, null, 2)}\n`;
  }
}

/**
 * What no package manager installs, as comment lines: where the file comes from, the interpreter,
 * OS, container image, GPUs with driver and CUDA, compilers, cuDNN/NCCL and the determinism variables.
 */
export function constraintComments(plan: RebuildPlan): string[] {
  const lines = [`mlx env export of environment ${plan.env}${plan.run ? ` (run ${plan.run.name}, ${plan.run.id})` : ''}`];
  if (plan.python) lines.push(`python ${plan.python}`);
  lines.push(`os: ${[plan.os.distro, `${plan.os.platform} ${plan.os.arch}`, `kernel ${plan.os.kernel}`].filter(Boolean).join(', ')}`);
  const c = plan.container;
  if (c) lines.push(`container: ${[c.runtime, c.image, c.image_digest, c.image_id ? `image id ${c.image_id}` : undefined].filter(Boolean).join(' ')}`);
  for (const g of plan.gpus) lines.push(`gpu: ${g.vendor} ${g.name}, driver ${g.driver}${g.cuda ? `, CUDA ${g.cuda} (highest the driver supports)` : ''}${g.rocm ? `, ROCm ${g.rocm}` : ''}`);
  const tools = [...Object.entries(plan.compilers).map(([n, v]) => (n === 'nvcc' ? `CUDA toolkit (nvcc) ${v}` : `${n} ${v}`)), ...Object.entries(plan.gpu_libs).map(([n, v]) => `${n === 'cudnn' ? 'cuDNN' : n === 'nccl' ? 'NCCL' : n} ${v}`)];
  if (tools.length) lines.push(`toolchain: ${tools.join(', ')}`);
  const vars = Object.entries(plan.env_vars);
  if (vars.length) lines.push(`the run had: ${vars.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (plan.python_packages) lines.push(`packages from: ${plan.python_packages.source} (${plan.python_packages.oid})`);
  return lines;
}

function comments(lines: string[]): string {
  return lines.map((l) => `# ${l}`.trimEnd()).join('\n');
}

function pythonPackages(plan: RebuildPlan, format: string): string[] {
  if (plan.python_packages) return plan.python_packages.requirements;
  throw notRecorded(`environment ${plan.env} recorded no Python packages (no pip freeze, uv.lock, poetry.lock, Pipfile.lock, requirements file or conda pip list) to write as ${format}`, {
    hint: 'mlx env export --format json shows what it did record',
  });
}

/** A pip requirements file: the recorded lines as they are, the constraints as comments. */
function requirementsFile(plan: RebuildPlan): string {
  const reqs = pythonPackages(plan, 'requirements');
  const head = [...constraintComments(plan), `install: python${plan.python ? majorMinor(plan.python) : '3'} -m venv .venv && .venv/bin/pip install -r requirements.txt`];
  return `${comments(head)}\n${reqs.join('\n')}\n`;
}

/**
 * Lines another machine can install: editable installs (`-e`), local files (`@ file:`) and pip
 * options are the recording machine's own, so they are listed as comments instead.
 */
function portable(reqs: string[]): { kept: string[]; left: string[] } {
  const kept: string[] = [];
  const left: string[] = [];
  for (const r of reqs) (r.startsWith('-') || /@\s*file:/.test(r) ? left : kept).push(r);
  return { kept, left };
}

/** A conda environment file: the recorded one, or python and the pip packages. */
function condaFile(plan: RebuildPlan): string {
  const head = comments([...constraintComments(plan), 'install: conda env create -f environment.yml']);
  if (plan.conda) return `${head}\n${plan.conda.text.replace(/\n*$/, '\n')}`;
  if (!plan.python && !plan.python_packages) {
    throw notRecorded(`environment ${plan.env} recorded neither a conda environment nor Python to write as conda`, { hint: 'mlx env export --format json shows what it did record' });
  }
  const deps = [...(plan.python ? [`python=${plan.python}`] : []), 'pip'];
  const lines = [`name: mlx-${plan.env.slice(3, 11)}`, 'channels:', '  - conda-forge', 'dependencies:', ...deps.map((d) => `  - ${d}`)];
  if (plan.python_packages) lines.push('  - pip:', ...plan.python_packages.requirements.map((r) => `      - ${yamlScalar(r)}`));
  return `${head}\n${lines.join('\n')}\n`;
}

/** A pyproject.toml for uv: the exact interpreter as requires-python, the pins as dependencies. */
function uvProject(plan: RebuildPlan): string {
  const { kept, left } = portable(pythonPackages(plan, 'uv'));
  const head = [...constraintComments(plan), 'install: uv sync (in a folder holding only this file as pyproject.toml)', ...left.map((l) => `not exported (installs only on the recording machine): ${l}`)];
  const lines = [
    '[project]',
    `name = "mlx-env-${plan.env.slice(3, 11)}"`,
    'version = "0.0.0"',
    ...(plan.python ? [`requires-python = "==${plan.python}"`] : []),
    'dependencies = [',
    ...kept.map((r) => `    ${JSON.stringify(r)},`),
    ']',
    '',
    '[tool.uv]',
    'package = false',
  ];
  return `${comments(head)}\n${lines.join('\n')}\n`;
}

/**
 * A Dockerfile: the recorded image (by digest) as the base, else the official Python image of the
 * recorded version; the pinned packages inlined (a heredoc), so the file needs no build context.
 */
function dockerfile(plan: RebuildPlan): string {
  const { base, baseComments } = baseImage(plan);
  const reqs = plan.python_packages ? portable(plan.python_packages.requirements) : undefined;
  const head = [...constraintComments(plan), 'build: docker build -t mlx-env - < Dockerfile', ...baseComments, ...(reqs?.left ?? []).map((l) => `not exported (installs only on the recording machine): ${l}`)];
  if (plan.conda) head.push(`conda environment recorded (${plan.conda.source}): mlx env export --format conda writes it`);
  if (plan.npm) head.push(`npm packages from ${plan.npm.source} (${plan.npm.oid}): node ${plan.node}, npm ci`);
  const lines = ['# syntax=docker/dockerfile:1', comments(head), ...base];
  if (reqs?.kept.length) {
    const delimiter = 'MLX_REQUIREMENTS';
    lines.push(`COPY <<'${delimiter}' /tmp/mlx-requirements.txt`, ...reqs.kept, delimiter, 'RUN python3 -m pip install --no-cache-dir -r /tmp/mlx-requirements.txt');
  }
  return `${lines.join('\n')}\n`;
}

function baseImage(plan: RebuildPlan): { base: string[]; baseComments: string[] } {
  const c = plan.container;
  if (c?.image_digest) {
    if (c.image) return { base: [`FROM ${c.image.replace(/@.*$/, '')}@${c.image_digest}`], baseComments: [] };
    return { base: ['ARG BASE_IMAGE', `FROM \${BASE_IMAGE}@${c.image_digest}`], baseComments: [`the image's repository was not recorded: docker build --build-arg BASE_IMAGE=<repository> ...`] };
  }
  if (c?.image) return { base: [`FROM ${c.image}`], baseComments: ['no image digest was recorded: the tag may have moved since'] };
  const codename = /\(([a-z]+)\)\s*$/.exec(plan.os.distro ?? '')?.[1];
  const debian = /^Debian/.test(plan.os.distro ?? '');
  if (plan.python) return { base: [`FROM python:${plan.python}-slim${debian && codename ? `-${codename}` : ''}`], baseComments: [] };
  if (debian && codename) return { base: [`FROM debian:${codename}-slim`], baseComments: [] };
  return { base: ['ARG BASE_IMAGE', 'FROM ${BASE_IMAGE}'], baseComments: ['no container, interpreter or Debian release was recorded to base this on: docker build --build-arg BASE_IMAGE=<image> ...'] };
}

function majorMinor(version: string): string {
  return /^\d+\.\d+/.exec(version)?.[0] ?? '3';
}

/** A YAML scalar: plain when it cannot be misread, else double-quoted (JSON strings are valid YAML). */
function yamlScalar(s: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._=<>!~+,*\-]*$/.test(s) ? s : JSON.stringify(s);
}
