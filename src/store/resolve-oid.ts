import { isOid, type Oid } from '../hash/oid.js';
import { ambiguousOid, badOid } from '../util/errors.js';
import type { ObjectStore } from './object-store.js';

/**
 * The object a full oid or a `b3:` prefix of at least 8 hex digits names in the store, or undefined
 * when the store holds none (the caller says what was missing, in its own words). A ref that is not
 * an oid or prefix is `E.BAD_OID`; a prefix matching several objects is `E.AMBIGUOUS_OID`. Prefixes
 * are matched by listing the store, so they are for people typing, not for scripts.
 */
export function resolveOid(store: ObjectStore, ref: string): Oid | undefined {
  const lower = ref.trim().toLowerCase();
  if (isOid(lower)) return store.has(lower) ? lower : undefined;
  if (!/^b3:[0-9a-f]{8,63}$/.test(lower)) {
    throw badOid(`${JSON.stringify(ref)} is not an object id or a b3: prefix of at least 8 hex digits`, {
      hint: `give the oid mlx printed, e.g. b3:1f2e3d4c`,
      ref,
    });
  }
  const matches: Oid[] = [];
  for (const oid of store.list()) if (oid.startsWith(lower)) matches.push(oid);
  if (matches.length > 1) {
    throw ambiguousOid(`${ref} matches ${matches.length} objects in the cache`, { hint: 'give more hex digits', ref, matches: matches.slice(0, 10) });
  }
  return matches[0];
}
