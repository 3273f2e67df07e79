// Runs s3rver in its own process for end-to-end tests: the CLI under test is spawned synchronously,
// which would block an in-process server. Prints {"port": N} once listening; exits on SIGTERM.
// Usage: node s3rver-process.mjs <dir> <bucket>
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import S3rver from 's3rver';

// Same DES shim as s3-server.ts: OpenSSL 3 has no single DES, which s3rver's list tokens use.
for (const name of ['createCipheriv', 'createDecipheriv']) {
  const original = crypto[name];
  crypto[name] = (alg, key, iv, ...rest) =>
    alg === 'des' && key.length === 8 ? original('des-ede3-cbc', Buffer.concat([key, key, key]), iv) : original(alg, key, iv, ...rest);
}

// s3rver answers a PUT once the body went into its write stream, before the file holds it: a HEAD
// right after can see fewer bytes (a busy machine shows it). Its put waits for the file here.
const FilesystemStore = createRequire(import.meta.url)('s3rver/lib/stores/filesystem.js');
const putObject = FilesystemStore.prototype.putObject;
FilesystemStore.prototype.putObject = async function (object) {
  const done = await putObject.call(this, object);
  const file = this.getResourcePath(object.bucket, object.key, 'object');
  while (fs.statSync(file).size < done.size) await new Promise((r) => setTimeout(r, 1));
  return done;
};

const [dir, bucket] = process.argv.slice(2);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, vhostBuckets: false, configureBuckets: [{ name: bucket, configs: [] }] });
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
