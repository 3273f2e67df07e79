import type { Oid } from '../hash/oid.js';
import { isFileEntry, type FileEntry, type ManifestEntry } from '../formats/manifest.js';
import type { ManifestTable } from '../formats/manifest-table.js';
import { lstatIfExists } from '../util/fs.js';
import { walkTree, WALK_LINK, type FileStat } from './scan.js';
import { OTHER_OID, SAME_OID, UNKNOWN, type StatIndex } from './stat-index.js';
import { absPath, type Repo } from './repo.js';
import { DirFiles, fileEntries, fingerprint, hashStatChanged, readWalkedDir, readWorkTree, type FileList, type PendingFile, type ReadOptions, type WorkTree } from './work-tree.js';
import { asciiEquals } from '../util/bytes.js';

export type DirReading =
  /** Read as readWorkTree reads it: not a directory, unchanged, or its manifest had no table. */
  | { kind: 'read'; work: WorkTree }
  /**
   * What differs between the directory and its manifest, as entries on each side (in manifest order),
   * to be compared by the caller; `same` files were found equal in place and are in neither list.
   */
  | { kind: 'compared'; before: ManifestEntry[]; after: ManifestEntry[]; same: number; fp?: string };

/**
 * Reads tracked directory `rel` against its manifest `oid`, whose table `tableOf` gives (asked only when
 * the stat fingerprint does not answer). A file whose trusted stat index entry names the manifest's
 * oid, with the manifest's size and executable bit, is counted and nothing more: after a 1% edit of
 * 100,000 files, entries are made for the 1,000 edited ones, not for every file on both sides. One of
 * the manifest's size and bit whose stat changed is hashed on the spot and counted the same way when
 * its oid is the manifest's. The rest (new, resized, links, files that may be cache objects) are read
 * as readWorkTree reads them.
 */
export function readDirAgainst(repo: Repo, index: StatIndex, rel: string, oid: Oid, tableOf: () => ManifestTable | undefined, opts: ReadOptions): DirReading {
  const abs = absPath(repo, rel);
  if (!lstatIfExists(abs)?.isDirectory()) return { kind: 'read', work: readWorkTree(repo, index, rel, opts) };
  const walked = walkTree(abs, { root: repo.root, rel });
  const fp = fingerprint(repo, abs, walked);
  if (index.treeOid(rel, fp) === oid) return { kind: 'read', work: { kind: 'dir-unchanged', oid } };
  const table = tableOf();
  if (!table) return { kind: 'read', work: readWalkedDir(repo, index, rel, walked, fp, opts) };
  const files = new DirFiles(repo, rel, walked);
  opts.progress?.({ totalFiles: files.count, totalBytes: files.totalBytes() });
  const names = walked.pathBytes;
  const before: ManifestEntry[] = [];
  /** The work tree's side in walk order: an entry, or the number of a file still to read. */
  const after: (ManifestEntry | number)[] = [];
  const toRead: number[] = [];
  const recorded = new Map<string, FileEntry>();
  const stat = {} as FileStat;
  const indexed = index.cursor(rel);
  let same = 0;
  let unread = 0;
  let sameBytes = 0;
  let allTrusted = true;
  let m = 0;
  let fileNo = 0;
  for (let i = 0; i < walked.count; i++) {
    const start = walked.relStart(i);
    const end = walked.relStart(i + 1);
    while (m < table.count && table.comparePath(m, names, start, end) < 0) before.push(table.entryAt(m++));
    const paired = m < table.count && table.comparePath(m, names, start, end) === 0 ? m++ : -1;
    if (!files.isFile(i)) {
      after.push(walked.kind(i) === WALK_LINK ? { p: walked.rel(i), t: 'l', l: walked.targets.get(i)! } : { p: walked.rel(i), t: 'd' });
      if (paired >= 0) before.push(table.entryAt(paired));
      continue;
    }
    const j = fileNo++;
    if (paired >= 0 && table.isFile(paired) && !files.isLinked(j)) {
      files.statInto(j, stat);
      const sameMeta = ownBits(stat) && stat.size === table.sizeAt(paired) && (stat.mode & 0o111) !== 0 === table.isExecutable(paired);
      const known = sameMeta ? indexed.match(names, start, end, stat, table.source, table.oidStart(paired), table.oidEnd(paired)) : UNKNOWN;
      if (known === SAME_OID) {
        same++;
        unread++;
        sameBytes += stat.size;
        continue;
      }
      // Touched, perhaps unchanged: hashed here and its oid compared in place, so after every file of
      // a million was touched each leaves only its stat index record behind.
      if (sameMeta) {
        let oid: Oid;
        if (known === OTHER_OID) {
          oid = indexed.otherOid(); // changed, and hashed by an earlier command
          opts.progress?.({ files: 1, bytes: stat.size });
        } else {
          const hashed = hashStatChanged(repo, index, `${rel}/${walked.pathOf(i)}`, stat, table.oidAt(paired), opts);
          allTrusted &&= hashed.trusted;
          oid = hashed.oid;
          if (asciiEquals(oid, table.source, table.oidStart(paired), table.oidEnd(paired))) {
            same++; // progress counted it as it was hashed
            continue;
          }
        }
        before.push(table.entryAt(paired));
        after.push({ p: walked.rel(i), o: oid, s: stat.size, x: (stat.mode & 0o111) !== 0 });
        continue;
      }
    }
    after.push(toRead.length);
    toRead.push(j);
    if (paired < 0) continue;
    const e = table.entryAt(paired);
    before.push(e);
    if (isFileEntry(e)) recorded.set(files.key(j), e);
  }
  while (m < table.count) before.push(table.entryAt(m++));
  opts.progress?.({ files: unread, bytes: sameBytes });
  const read = fileEntries(repo, index, new SomeFiles(files, toRead), {
    ...opts,
    recorded: (key) => recorded.get(key),
    candidate: (key) => recorded.get(key)?.o,
    recordedX: (key) => recorded.get(key)?.x,
  });
  return { kind: 'compared', before, after: after.map((a) => (typeof a === 'number' ? read.entries[a]! : a)), same, fp: allTrusted && read.allTrusted ? fp : undefined };
}

/**
 * Whether a file's mode bits are its own: a read-only file with other links may be the cache object
 * itself (hardlink cache), whose executable bit is the recorded one (see work-tree.ts).
 */
function ownBits(st: FileStat): boolean {
  return st.nlink <= 1 || (st.mode & 0o222) !== 0;
}

/** Some of a directory's files, by their numbers there. */
class SomeFiles implements FileList {
  constructor(private readonly files: DirFiles, private readonly picks: number[]) {}
  get count(): number {
    return this.picks.length;
  }
  key(k: number): string {
    return this.files.key(this.picks[k]!);
  }
  rel(k: number): string {
    return this.files.rel(this.picks[k]!);
  }
  statInto(k: number, out: FileStat): FileStat {
    return this.files.statInto(this.picks[k]!, out);
  }
  isLinked(k: number): boolean {
    return this.files.isLinked(this.picks[k]!);
  }
  file(k: number): PendingFile {
    return this.files.file(this.picks[k]!);
  }
}
