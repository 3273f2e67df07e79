import type { Oid } from '../hash/oid.js';
import { parseManifest, type ManifestEntry } from '../formats/manifest.js';
import type { Repo } from './repo.js';

/*
 * A pull reads each directory's manifest twice, once to fetch the files it names and once to check
 * them out; at 100,000 files a manifest is megabytes of JSON to hash and parse. Both reads go through
 * here and share one parse per open repository. Only those two do: a command that walks many
 * revisions' manifests must not keep them all.
 */

const parsed = new WeakMap<Repo, Map<Oid, readonly ManifestEntry[]>>();

/**
 * The entries of manifest `oid`, read from the cache (hash-checked) once per open repository.
 * `label` names it in a parse error. The array is shared: callers must not change it.
 */
export function manifestOf(repo: Repo, oid: Oid, label: string): readonly ManifestEntry[] {
  let byOid = parsed.get(repo);
  if (!byOid) parsed.set(repo, (byOid = new Map()));
  let entries = byOid.get(oid);
  if (!entries) {
    entries = parseManifest(repo.store.readBytes(oid).toString('utf8'), label).entries;
    byOid.set(oid, entries);
  }
  return entries;
}
