import fs from 'node:fs';
import path from 'node:path';
import type { EnvRecord } from '../formats/env-record.js';
import { readFileIfExists } from '../util/fs.js';

type Container = NonNullable<EnvRecord['container']>;

/** Where container runtimes leave traces inside a container; a parameter so tests can point elsewhere. */
export interface ContainerFiles {
  containerenv: string;
  dockerenv: string;
  cgroup: string;
  apptainer: string;
}

export const CONTAINER_FILES: ContainerFiles = {
  containerenv: '/run/.containerenv',
  dockerenv: '/.dockerenv',
  cgroup: '/proc/1/cgroup',
  apptainer: '/.singularity.d',
};

/**
 * The container a process runs in, simplest signals first: podman's /run/.containerenv (which names
 * the image it was started from and the image id), Apptainer/Singularity's variables and folder, the
 * `container` variable podman/lxc/systemd-nspawn set, docker's /.dockerenv, then the cgroup of PID 1
 * (cgroup v1 only; under v2 it says nothing) and Kubernetes' service variables. Docker exposes no
 * image digest inside a container: pass one in with MLX_IMAGE_DIGEST (`sha256:…` or `repo@sha256:…`).
 * An image started by digest (`repo@sha256:…`) gives its digest.
 */
export function detectContainer(env: NodeJS.ProcessEnv, files: ContainerFiles = CONTAINER_FILES): EnvRecord['container'] {
  const containerenv = readFileIfExists(files.containerenv);
  const sif = env.APPTAINER_CONTAINER || env.SINGULARITY_CONTAINER;
  let runtime: string | undefined;
  let image: string | undefined;
  if (containerenv !== undefined) {
    runtime = 'podman';
    image = field(containerenv, 'image');
  } else if (sif || fs.existsSync(files.apptainer)) {
    runtime = env.SINGULARITY_CONTAINER && !env.APPTAINER_CONTAINER ? 'singularity' : 'apptainer';
    // The image file's name, not its folder: that is a path on the host.
    if (sif) image = path.basename(sif);
  } else if (env.container) runtime = env.container;
  else if (fs.existsSync(files.dockerenv)) runtime = 'docker';
  else runtime = fromCgroup(readFileIfExists(files.cgroup) ?? '') ?? (env.KUBERNETES_SERVICE_HOST ? 'kubernetes' : undefined);

  const given = givenDigest(env.MLX_IMAGE_DIGEST?.trim() ?? '');
  const started = splitReference(image ?? '');
  const digest = given.digest ?? started.digest;
  if (runtime === undefined && !digest) return undefined;
  const out: Container = { runtime: runtime ?? 'unknown' };
  const name = given.name ?? started.name;
  if (name) out.image = name;
  if (digest) out.image_digest = digest;
  const imageId = containerenv === undefined ? undefined : field(containerenv, 'imageid');
  if (imageId) out.image_id = imageId;
  return out;
}

function field(text: string, name: string): string | undefined {
  return new RegExp(`^${name}="?([^"\\n]+)"?$`, 'm').exec(text)?.[1] || undefined;
}

function fromCgroup(cgroup: string): string | undefined {
  if (/kubepods/.test(cgroup)) return 'kubernetes';
  if (/libpod/.test(cgroup)) return 'podman';
  if (/docker/.test(cgroup)) return 'docker';
  if (/containerd/.test(cgroup)) return 'containerd';
  if (/\/lxc\//.test(cgroup)) return 'lxc';
  return undefined;
}

/** MLX_IMAGE_DIGEST: `repo@sha256:…` gives both; anything else is taken as the digest itself. */
function givenDigest(value: string): { name?: string; digest?: string } {
  if (!value) return {};
  const at = value.lastIndexOf('@');
  return at > 0 ? { name: value.slice(0, at), digest: value.slice(at + 1) } : { digest: value };
}

/** An image reference: `repo@sha256:…` → name and digest; a bare `sha256:…` → digest; a tag reference → name. */
function splitReference(ref: string): { name?: string; digest?: string } {
  if (!ref) return {};
  const at = ref.lastIndexOf('@');
  if (at > 0 && /^[a-z0-9]+:[0-9a-f]{32,}$/.test(ref.slice(at + 1))) return { name: ref.slice(0, at), digest: ref.slice(at + 1) };
  if (/^[a-z0-9]+:[0-9a-f]{32,}$/.test(ref)) return { digest: ref };
  return { name: ref };
}
