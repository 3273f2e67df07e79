import type { HasherFactory } from '../hash/blake3.js';
import { hashBytes } from '../hash/hash-file.js';
import { type Oid, oidFromHex } from '../hash/oid.js';
import { parseRecipe } from '../formats/recipe.js';
import { MlxError } from '../util/errors.js';
import { damagedKey } from './layout.js';
import { addWant, packReader, readMembers, type Want } from './member-reads.js';
import type { Remote } from './remote.js';
import type { RemoteIndex } from './remote-index.js';

/** A copy of an object on the remote whose bytes are not that object. */
export interface DamagedCopy {
  oid: Oid;
  packHex: string;
  why: string;
}

export interface DamageReport {
  /** Objects (and chunks) checked. */
  checked: number;
  damaged: DamagedCopy[];
  /** Large files among those asked about that cannot be rebuilt: their recipe or a chunk is damaged. */
  files: Oid[];
  /**
   * Large files whose recipe copy itself is damaged: the chunks it names could not all be checked.
   * Once a good recipe is published, check these again.
   */
  uncheckedFiles: Oid[];
  bytesReceived: number;
}

/**
 * Reads back the remote's copy of each of `oids` that the index has, and of every chunk their
 * recipes name, and checks the bytes against the oid: `verify --remote --data` reports what this
 * finds, `push --repair` sends those objects again. Recipes that name chunks the remote does not
 * have are not this check's business (see dropIncompleteRecipes).
 */
export async function findDamagedCopies(remote: Remote, index: RemoteIndex, newHasher: HasherFactory, oids: Iterable<Oid>, jobs = 8): Promise<DamageReport> {
  const report: DamageReport = { checked: 0, damaged: [], files: [], uncheckedFiles: [], bytesReceived: 0 };
  const seen = new Set<Oid>();
  /** chunk oid -> the large files naming it */
  const chunkOf = new Map<Oid, Oid[]>();
  const damagedFiles = new Set<Oid>();
  const round = async (wanted: Iterable<Oid>) => {
    const groups = new Map<string, Want[]>();
    for (const oid of wanted) {
      const loc = index.locate(oid);
      if (!loc || seen.has(oid)) continue;
      seen.add(oid);
      report.checked++;
      const damaged = (why: string) => {
        report.damaged.push({ oid, packHex: loc.packHex, why });
        if (loc.entry.t === 'r') damagedFiles.add(oid);
        for (const file of chunkOf.get(oid) ?? []) damagedFiles.add(file);
      };
      addWant(groups, loc.packHex, {
        entry: loc.entry,
        refuse: (err) => damaged(err.message),
        take: (bytes) => {
          if (loc.entry.t === 'b') {
            if (hashBytes(newHasher, bytes) !== oid) damaged('its bytes hash to another oid');
            return;
          }
          try {
            const recipe = parseRecipe(bytes, `of ${oid} in pack ${loc.packHex.slice(0, 12)}`);
            for (const [chunk] of recipe.chunks) {
              const files = chunkOf.get(chunk);
              if (files) files.push(oid);
              else chunkOf.set(chunk, [oid]);
            }
            // A flipped byte can leave a recipe that parses but names a chunk nobody stored.
            const lost = index.missingChunk(recipe);
            if (lost) damaged(`it names chunk ${lost}, which the remote does not have`);
          } catch (err) {
            if (!(err instanceof MlxError)) throw err;
            damaged(err.message);
          }
        },
      });
    }
    await readMembers(packReader(remote, report), groups, jobs);
  };
  await round(oids);
  await round([...chunkOf.keys()]);
  report.files = [...damagedFiles];
  report.uncheckedFiles = report.damaged.filter((d) => index.locate(d.oid)?.entry.t === 'r').map((d) => d.oid);
  return report;
}

/**
 * Publishes that these copies are damaged, so every reader takes another copy. Call only once good
 * copies are published: a reader never loses the only copy it has.
 */
export async function markDamaged(remote: Remote, damaged: DamagedCopy[]): Promise<void> {
  for (const d of damaged) await remote.put(damagedKey(oidFromHex(d.packHex), d.oid), Buffer.alloc(0));
}
