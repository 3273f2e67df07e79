// Runs s3rver in its own process for end-to-end tests: the CLI under test is spawned synchronously,
// which would block an in-process server. Prints {"port": N} once listening; exits on SIGTERM.
// Usage: node s3rver-process.mjs <dir> <bucket>
import crypto from 'node:crypto';
import S3rver from 's3rver';

// Same DES shim as s3-server.ts: OpenSSL 3 has no single DES, which s3rver's list tokens use.
for (const name of ['createCipheriv', 'createDecipheriv']) {
  const original = crypto[name];
  crypto[name] = (alg, key, iv, ...rest) =>
    alg === 'des' && key.length === 8 ? original('des-ede3-cbc', Buffer.concat([key, key, key]), iv) : original(alg, key, iv, ...rest);
}

const [dir, bucket] = process.argv.slice(2);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, vhostBuckets: false, configureBuckets: [{ name: bucket, configs: [] }] });
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
