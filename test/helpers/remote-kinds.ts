import fs from 'node:fs';
import path from 'node:path';
import type { S3TestServer } from './s3-server.js';

/** A remote backend as the e2e suites drive it: how to add one, and where its stored keys live on disk. */
export interface RemoteKind {
  name: 'dir' | 's3';
  /** `mlx remote add` arguments for a fresh, empty location. */
  addArgs(id: string): string[];
  /** The file behind a remote key, to count or tamper with. */
  storedFile(id: string, key: string): string;
  storedKeys(id: string): string[];
}

/** The directory and S3 kinds; the getters are read per call, since suites create both in their hooks. */
export function remoteKinds(dirRoot: () => string, s3: () => S3TestServer): RemoteKind[] {
  return [
    {
      name: 'dir',
      addArgs: (id) => [path.join(dirRoot(), id)],
      storedFile: (id, key) => path.join(dirRoot(), id, key),
      storedKeys: (id) => listFiles(path.join(dirRoot(), id)),
    },
    {
      name: 's3',
      addArgs: (id) => [`s3://${s3().bucket}/${id}`, '-o', `endpoint=${s3().endpoint}`],
      storedFile: (id, key) => path.join(s3().dir, s3().bucket, id, `${key}._S3rver_object`),
      storedKeys: (id) => listFiles(path.join(s3().dir, s3().bucket, id)).filter((k) => k.endsWith('._S3rver_object')).map((k) => k.slice(0, -'._S3rver_object'.length)),
    },
  ];
}

/** Every file under `root`, as `/`-separated relative paths. */
export function listFiles(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(root, f)).isFile()).map((f) => f.split(path.sep).join('/'));
}
