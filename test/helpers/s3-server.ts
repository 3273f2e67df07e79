import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

/**
 * A real S3-compatible server (s3rver) running in this process on 127.0.0.1 with a free port and a
 * temporary directory, with one bucket created.
 *
 * s3rver knows one access key, `S3RVER` (secret `S3RVER`), and rejects any other key id with
 * InvalidAccessKeyId; it does not verify SigV4 signatures, so a wrong secret goes unnoticed.
 */
export interface S3TestServer {
  endpoint: string;
  bucket: string;
  /** Where s3rver keeps its files; objects are at `<dir>/<bucket>/<key>._S3rver_object`. */
  dir: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

export const S3RVER_KEY = 'S3RVER';

export async function startS3Server(opts: { bucket?: string } = {}): Promise<S3TestServer> {
  const bucket = opts.bucket ?? 'mlx-test';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    dir,
    accessKeyId: S3RVER_KEY,
    secretAccessKey: S3RVER_KEY,
    async stop() {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP port on 127.0.0.1 nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as import('node:net').AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
