import fs from 'node:fs';
import os from 'node:os';
import { hashBackend, loadHasher } from '../hash/blake3.js';
import type { LinkType } from '../formats/config.js';
import { chooseZstd, type ZstdBackend } from '../remote/zstd.js';
import { probeLinkTypes } from '../workspace/link.js';
import { sweepOrphans } from '../workspace/process-lock.js';
import { openRepo } from '../workspace/repo.js';

export interface DoctorReport {
  mlx: string;
  node: string;
  platform: string;
  hash: { algorithm: 'blake3'; backend: string };
  /** The zstd packs are written and read with; `missing` (and `hint`) say why there is none. */
  zstd: { backend: ZstdBackend | null; missing?: string; hint?: string };
  repo: string;
  cache: { dir: string; objects: number; bytes: number; freeBytes?: number };
  linkTypes: { configured: LinkType[]; supported: Record<LinkType, boolean> };
  staleTempFilesRemoved: number;
}

/** `mlx doctor`: versions, the hash and zstd in use, cache location and size, and which link types this machine supports. */
export interface DoctorOptions {
  cwd: string;
  /** The version of the running mlx, reported as is. */
  version: string;
}

export async function doctor(opts: DoctorOptions): Promise<DoctorReport> {
  const repo = await openRepo(opts.cwd);
  const version = opts.version;
  let objects = 0;
  let bytes = 0;
  for (const oid of repo.store.list()) {
    objects++;
    bytes += fs.statSync(repo.store.pathOf(oid)).size;
  }
  let freeBytes: number | undefined;
  try {
    const s = fs.statfsSync(repo.store.root);
    freeBytes = s.bavail * s.bsize;
  } catch {
    freeBytes = undefined; // statfs is missing on some platforms and file systems: free space is then unknown
  }
  await loadHasher(); // the repository loads it on first use; the report names the backend in use
  const zstd = chooseZstd();
  return {
    mlx: version,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    hash: { algorithm: 'blake3', backend: hashBackend },
    zstd: 'codec' in zstd ? { backend: zstd.codec.backend } : { backend: null, missing: zstd.missing, hint: zstd.hint },
    repo: repo.root,
    cache: { dir: repo.store.root, objects, bytes, freeBytes },
    linkTypes: { configured: repo.linkTypes, supported: probeLinkTypes(repo) },
    staleTempFilesRemoved: sweepOrphans(repo, true),
  };
}
