import { oidFromHex } from '../hash/oid.js';
import type { OidList } from './oid-list.js';
import type { RemoteIndex } from './remote-index.js';
import { packKey } from './layout.js';

/*
 * The decisions of a push that need no I/O: what to send, what to rely on, how rounds add up, and
 * which packs a listing shows gone. push.ts reads the remote and the cache and acts on them.
 */

/** What one round sends and relies on, from what the remote index holds. */
export interface SendPlan {
  /** Where in the list the objects the remote lacks are, in the list's order. */
  todo: number[];
  /** The packs holding the objects the remote already has: this push relies on them. */
  reliedOn: Set<string>;
  alreadyOnRemote: number;
  /** Bytes (raw) of the objects the remote already has. */
  bytesDeduplicated: number;
}

/** Splits `wanted` into what the remote lacks and the packs that hold the rest. */
export function planSends(index: Pick<RemoteIndex, 'locate' | 'typeOfListed'>, wanted: OidList): SendPlan {
  const plan: SendPlan = { todo: [], reliedOn: new Set(), alreadyOnRemote: 0, bytesDeduplicated: 0 };
  for (let i = 0; i < wanted.length; i++) {
    // What the remote lacks is found by digest; an oid string is made only for what it has.
    const loc = index.typeOfListed(wanted, i) === undefined ? undefined : index.locate(wanted.oidAt(i));
    if (!loc) {
      plan.todo.push(i);
      continue;
    }
    plan.reliedOn.add(loc.packHex);
    plan.alreadyOnRemote++;
    plan.bytesDeduplicated += loc.entry.raw;
  }
  return plan;
}

/** The counts that a further round of one push adds to its summary; the rest is the first round's. */
export interface RoundCounts {
  uploadedObjects: number;
  packs: number;
  bytesSent: number;
}

/** `total` with what `round` sent added. */
export function addRound<T extends RoundCounts>(total: T, round: RoundCounts): T {
  return { ...total, uploadedObjects: total.uploadedObjects + round.uploadedObjects, packs: total.packs + round.packs, bytesSent: total.bytesSent + round.bytesSent };
}

/**
 * The packs among `atRisk` that are gone: not `published` (their index is gone or a removal record
 * names them), or their pack file is missing from a listing of the packs folder or not the size the
 * index this push holds says.
 */
export function packsGone(atRisk: Iterable<string>, listing: readonly { key: string; size: number }[], packs: ReadonlyMap<string, { size: number }>, published: ReadonlyMap<string, unknown>): Set<string> {
  const sizes = new Map(listing.map((o) => [o.key, o.size]));
  const gone = new Set<string>();
  for (const hex of atRisk) {
    if (!published.has(hex) || sizes.get(packKey(oidFromHex(hex))) !== packs.get(hex)?.size) gone.add(hex);
  }
  return gone;
}
