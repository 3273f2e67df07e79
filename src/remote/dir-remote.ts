import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { E, MlxError, isErrno, badConfig, badState, pathNotFound, remoteAuth, remoteCorrupt, remoteFailed, remoteNotFound, remoteUnreachable } from '../util/errors.js';
import { failpoint } from '../util/failpoint.js';
import { mkdirp, tempPathFor } from '../util/fs.js';
import { backoffMs, retryBaseMs, sleep } from './retry.js';
import { assertKey, assertPrefix, assertRange, isPieces, putBodySize, type ByteRange, type PutBody, type Remote, type RemoteObjectInfo } from './remote.js';

/**
 * Errno values a mounted share (NFS, SMB, FUSE) gives while its server or link is in trouble: worth a
 * few more tries, and a network failure — never a missing or damaged object — when they go on.
 */
const TRANSIENT_FS = ['EIO', 'ETIMEDOUT', 'ESTALE', 'EAGAIN', 'EINTR', 'ENOTCONN', 'EHOSTDOWN', 'ECONNRESET', 'ECONNABORTED'];
/** Tries of one operation, the first included. */
const ATTEMPTS = 4;

/** Temp files `put` leaves only while writing (see `tempPathFor`); `list` never reports them. */
const TEMP_NAME = /^\..*\.tmp$/;

/**
 * A body at least this large, whose length is a whole number of 512-byte blocks (a pack always is),
 * is written past the page cache (O_DIRECT) where the file system takes that. Every put is synced
 * before it is renamed into place: written through the page cache, its bytes were copied into fresh
 * cache pages and then written out by the sync, which together cost about three times the wall time
 * and four times the CPU of writing them straight to the disk (measured on ext4: 1 GiB as 64 files).
 */
const DIRECT_FROM = 1 << 20;
const DIRECT_BLOCK = 512;

/**
 * A remote in a local or mounted directory; a key `a/b/c` is the file `<root>/a/b/c`.
 *
 * The root must exist: it is never created, so a remote on an unmounted file system fails loudly
 * instead of silently filling the local disk. Objects appear only by renaming a fully written,
 * size-checked temp file in the same folder, so a reader never sees a partial object.
 */
export class DirRemote implements Remote {
  private rootChecked = false;
  /** Whether this file system took a write past the page cache: not yet tried, it did, or it refused. */
  private direct: 'untried' | 'works' | 'refused' = fs.constants.O_DIRECT === undefined ? 'refused' : 'untried';

  /**
   * Pieces are written as they are (a vectored write) only where a whole aligned buffer cannot be
   * written past the page cache: that write spares more than joining the pieces costs.
   */
  get putsPiecesAsTheyAre(): boolean {
    return this.direct === 'refused';
  }

  /**
   * @param root absolute path of the remote's directory
   * @param url the remote as the user wrote it, for messages
   */
  constructor(readonly root: string, readonly url: string = root) {
    if (!path.isAbsolute(root)) throw badConfig(`directory remote ${url}: path must be absolute, got ${root}`);
  }

  localFile(key: string): string {
    assertKey(key);
    return this.pathOf(key);
  }

  async list(prefix: string): Promise<RemoteObjectInfo[]> {
    return this.retrying(() => this.listOnce(prefix), 'list', prefix);
  }

  private async listOnce(prefix: string): Promise<RemoteObjectInfo[]> {
    assertPrefix(prefix);
    // Walk only the deepest folder the prefix names in full, then filter by the rest of it.
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash);
    const found: RemoteObjectInfo[] = [];
    try {
      await this.requireRoot();
      this.walk(base, prefix, found);
    } catch (err) {
      throw this.wrap(err, 'list', prefix);
    }
    return found;
  }

  /** Synchronous on purpose: readdir/stat of many small entries is faster without the promise queue. */
  private walk(dirKey: string, prefix: string, out: RemoteObjectInfo[]): void {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dirKey === '' ? this.root : this.pathOf(dirKey), { withFileTypes: true });
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return;
      throw err;
    }
    for (const entry of entries) {
      const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
      if (entry.isDirectory()) {
        // Descend only where keys under this folder can still start with the prefix.
        if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) this.walk(key, prefix, out);
      } else if (entry.isFile() && !TEMP_NAME.test(entry.name) && key.startsWith(prefix)) {
        out.push({ key, size: fs.statSync(path.join(this.root, key)).size });
      }
    }
  }

  async head(key: string): Promise<RemoteObjectInfo | undefined> {
    return this.retrying(() => this.headOnce(key), 'head', key);
  }

  private async headOnce(key: string): Promise<RemoteObjectInfo | undefined> {
    assertKey(key);
    try {
      const st = await fsp.stat(this.pathOf(key));
      return st.isFile() ? { key, size: st.size } : undefined;
    } catch (err) {
      const mapped = await this.missing(err, 'head', key);
      if (mapped.code === E.REMOTE_NOT_FOUND) return undefined;
      throw mapped;
    }
  }

  async get(key: string, range?: ByteRange, into?: Buffer): Promise<Buffer> {
    return this.retrying(() => this.getOnce(key, range, into), 'get', key);
  }

  private async getOnce(key: string, range?: ByteRange, into?: Buffer): Promise<Buffer> {
    assertKey(key);
    if (range) assertRange(range);
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(this.pathOf(key), 'r');
    } catch (err) {
      throw await this.missing(err, 'get', key);
    }
    try {
      const size = (await fh.stat()).size;
      const start = Math.min(range?.start ?? 0, size);
      const end = Math.min(range?.end ?? size, size);
      const buf = into && into.length >= end - start ? into.subarray(0, end - start) : Buffer.allocUnsafe(end - start);
      let done = 0;
      while (done < buf.length) {
        const { bytesRead } = await fh.read(buf, done, buf.length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      // Objects are immutable: a short read means the file changed under us.
      if (done !== buf.length) {
        throw remoteCorrupt(`${this.url}: ${key} shrank while being read (${done} of ${buf.length} bytes)`, { key });
      }
      return buf;
    } catch (err) {
      throw this.wrap(err, 'get', key);
    } finally {
      await fh.close();
    }
  }

  async getToFile(key: string, dest: string): Promise<number> {
    return this.retrying(() => this.getToFileOnce(key, dest), 'get', key);
  }

  private async getToFileOnce(key: string, dest: string): Promise<number> {
    assertKey(key);
    const src = this.pathOf(key);
    let created = false;
    try {
      // COPYFILE_EXCL: `dest` must be new; the kernel copies (copy_file_range) without a user-space loop.
      await fsp.copyFile(src, dest, fs.constants.COPYFILE_EXCL);
      created = true;
      const [from, to] = await Promise.all([fsp.stat(src), fsp.stat(dest)]);
      if (from.size !== to.size) {
        throw remoteCorrupt(`${this.url}: copied ${to.size} of ${from.size} bytes of ${key}`, { key });
      }
      return to.size;
    } catch (err) {
      // A copy that broke half-way may have left part of `dest` (which did not exist before).
      if (created || isErrno(err, ...TRANSIENT_FS)) await fsp.rm(dest, { force: true });
      if (isErrno(err, 'EEXIST')) throw badState(`cannot download ${key} to ${dest}: the file already exists`, { cause: err });
      // ENOENT is the object or the destination folder: only the first is a missing object.
      if (isErrno(err, 'ENOENT', 'ENOTDIR') && fs.existsSync(src)) {
        throw pathNotFound(`cannot download ${key} to ${dest}: its folder does not exist`, { cause: err });
      }
      throw await this.missing(err, 'get', key);
    }
  }

  async put(key: string, body: PutBody): Promise<void> {
    return this.retrying(() => this.putOnce(key, body), 'put', key);
  }

  private async putOnce(key: string, body: PutBody): Promise<void> {
    assertKey(key);
    const target = this.pathOf(key);
    const expected = await putBodySize(body);
    try {
      await this.requireRoot();
      await mkdirp(path.dirname(target));
    } catch (err) {
      throw this.wrap(err, 'put', key);
    }
    const tmp = tempPathFor(target);
    try {
      if (Buffer.isBuffer(body)) {
        if (!(await this.writeDirect(tmp, body))) await fsp.writeFile(tmp, body, { flag: 'wx' });
      } else if (isPieces(body)) await writePieces(tmp, body);
      else await fsp.copyFile(body.file, tmp, fs.constants.COPYFILE_EXCL);
      // fsync before the rename, so a crash cannot leave a visible object with missing bytes.
      const fh = await fsp.open(tmp, 'r');
      let stored: number;
      try {
        await fh.sync();
        stored = (await fh.stat()).size;
      } finally {
        await fh.close();
      }
      if (stored !== expected) {
        throw remoteCorrupt(`${this.url}: wrote ${stored} bytes for ${key}, expected ${expected}`, { key, stored, expected });
      }
      await failpoint('remote.put.before-rename');
      await fsp.rename(tmp, target);
    } catch (err) {
      throw this.wrap(err, 'put', key);
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }

  /**
   * Writes `body` into the new file `tmp` past the page cache; false, with no file left, where that
   * cannot be done: the file system refuses O_DIRECT, or the memory or length is not aligned to its
   * blocks (EINVAL either way). Until one such write has worked, a refusal is taken as the file
   * system's, and later bodies are not tried.
   */
  private async writeDirect(tmp: string, body: Buffer): Promise<boolean> {
    if (this.direct === 'refused' || body.length < DIRECT_FROM || body.length % DIRECT_BLOCK !== 0) return false;
    const { O_WRONLY, O_CREAT, O_EXCL, O_DIRECT } = fs.constants;
    let fh: fsp.FileHandle | undefined;
    try {
      fh = await fsp.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_DIRECT!, 0o666);
      for (let done = 0; done < body.length; ) {
        const { bytesWritten } = await fh.write(body, done, body.length - done, done);
        if (bytesWritten === 0) throw new Error(`no bytes written to ${tmp}`);
        done += bytesWritten;
      }
      this.direct = 'works';
      return true;
    } catch (err) {
      if (!isErrno(err, 'EINVAL')) throw err;
      if (this.direct === 'untried') this.direct = 'refused';
      await fh?.close();
      fh = undefined;
      await fsp.rm(tmp, { force: true });
      return false;
    } finally {
      await fh?.close();
    }
  }

  async removeStaleTemporaries(maxAgeMs: number): Promise<number> {
    // The writer may be on another machine that mounts this folder: only age tells a dead one.
    const cutoff = Date.now() - maxAgeMs;
    let removed = 0;
    const sweep = (dir: string) => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch (err) {
        if (isErrno(err, 'ENOENT', 'ENOTDIR')) return;
        throw err;
      }
      for (const entry of entries) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) sweep(file);
        else if (entry.isFile() && TEMP_NAME.test(entry.name)) {
          try {
            if (fs.statSync(file).mtimeMs < cutoff) {
              fs.rmSync(file, { force: true });
              removed++;
            }
          } catch (err) {
            if (!isErrno(err, 'ENOENT')) throw err; // its writer finished meanwhile
          }
        }
      }
    };
    try {
      await this.requireRoot();
      sweep(this.root);
    } catch (err) {
      throw this.wrap(err, 'clean', '');
    }
    return removed;
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    try {
      await fsp.rm(this.pathOf(key), { force: true });
    } catch (err) {
      throw this.wrap(err, 'delete', key);
    }
  }

  /**
   * Creates the root folder (`remote add` does, where the user names it; later commands never do, so an
   * unmounted share fails loudly) and checks it is usable. A path that cannot exist fails at once.
   */
  async create(): Promise<void> {
    try {
      await mkdirp(this.root);
    } catch (err) {
      if (isErrno(err, 'EACCES', 'EPERM', 'EROFS')) throw this.wrap(err, 'create', '');
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw remoteFailed(`cannot create the remote directory ${this.url} (${code})`, {
        hint: 'give a path on a writable, mounted file system',
        url: this.url,
        code,
        cause: err,
      });
    }
    await this.check();
  }

  async check(): Promise<void> {
    try {
      await this.requireRoot();
      await fsp.access(this.root, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
    } catch (err) {
      throw this.wrap(err, 'check', '');
    }
  }

  /**
   * Runs one operation again, with backoff, while it fails with an errno of a share in trouble; when it
   * goes on failing that way, the remote did not answer (`E.REMOTE_UNREACHABLE`).
   */
  private async retrying<T>(op: () => Promise<T>, what: string, key: string): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        const errno = err instanceof MlxError ? err.cause : err;
        if (!isErrno(errno, ...TRANSIENT_FS)) throw err;
        if (attempt >= ATTEMPTS) {
          throw remoteUnreachable(`${what} ${key === '' ? this.url : `${this.url}: ${key}`}: the remote directory did not answer (${errno.code}) after ${attempt} attempts`, {
            hint: 'check that the share is mounted and its server reachable, then run the command again',
            url: this.url,
            key,
            op: what,
            code: errno.code,
            cause: errno,
          });
        }
        await sleep(backoffMs(attempt, retryBaseMs(undefined)));
      }
    }
  }

  private pathOf(key: string): string {
    return path.join(this.root, ...key.split('/'));
  }

  /** Throws `E.REMOTE_UNREACHABLE` when the root folder is missing; remembered once it was found. */
  private async requireRoot(): Promise<void> {
    if (this.rootChecked) return;
    let st: fs.Stats;
    try {
      st = await fsp.stat(this.root);
    } catch (err) {
      if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err;
      throw remoteUnreachable(`remote directory ${this.url} does not exist`, {
        hint: 'create it (mkdir -p), mount it, or fix the remote url',
        url: this.url,
      });
    }
    if (!st.isDirectory()) throw remoteUnreachable(`remote ${this.url} is not a directory`, { url: this.url });
    this.rootChecked = true;
  }

  /** Like `wrap`, but a missing object under a missing root reports the missing root. */
  private async missing(err: unknown, op: string, key: string): Promise<MlxError> {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) {
      try {
        await this.requireRoot();
      } catch (rootErr) {
        return this.wrap(rootErr, op, key);
      }
    }
    return this.wrap(err, op, key);
  }

  /** One clear MlxError per failure; MlxErrors pass through unchanged. */
  private wrap(err: unknown, op: string, key: string): MlxError {
    if (err instanceof MlxError) return err;
    const where = key === '' ? this.url : `${this.url}: ${key}`;
    const data = { url: this.url, key, op };
    if (isErrno(err, 'ENOENT', 'ENOTDIR') && (op === 'get' || op === 'head')) {
      return remoteNotFound(`${where} does not exist on the remote`, { ...data, cause: err });
    }
    if (isErrno(err, 'EACCES', 'EPERM', 'EROFS')) {
      return remoteAuth(`${op} ${where}: permission denied (${err.code})`, { ...data, cause: err, hint: 'check the permissions of the remote directory' });
    }
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return remoteFailed(`${op} ${where} failed: ${detail}`, { ...data, cause: err });
  }
}

/** Pieces handed to one `writev` call: well under IOV_MAX (1024 on Linux). */
const PIECES_PER_CALL = 256;

/** Writes `pieces` back to back into the new file `file`, with vectored writes (no copy to join them). */
async function writePieces(file: string, pieces: readonly Buffer[]): Promise<void> {
  const fh = await fsp.open(file, 'wx');
  try {
    let rest = pieces.filter((piece) => piece.length > 0);
    for (let position = 0; rest.length > 0; ) {
      const { bytesWritten } = await fh.writev(rest.slice(0, PIECES_PER_CALL), position);
      if (bytesWritten === 0) throw new Error(`no bytes written to ${file}`);
      position += bytesWritten;
      // A short write leaves the rest of the pieces, the first perhaps in part.
      let skip = bytesWritten;
      let done = 0;
      while (done < rest.length && skip >= rest[done]!.length) skip -= rest[done++]!.length;
      rest = rest.slice(done);
      if (skip > 0) rest[0] = rest[0]!.subarray(skip);
    }
  } finally {
    await fh.close();
  }
}
