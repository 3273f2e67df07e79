import { badOid } from '../util/errors.js';

/** The only algorithm mlx writes today: BLAKE3-256. The prefix leaves room for others. */
export const OID_ALGO = 'b3';

/** An object id: `b3:` followed by 64 lowercase hex digits. */
export type Oid = string;

export function isOid(value: unknown): value is Oid {
  if (typeof value !== 'string' || value.length !== 67 || !value.startsWith('b3:')) return false;
  // Called once per file of a directory: a loop over char codes is several times cheaper than a regex.
  for (let i = 3; i < 67; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

export function assertOid(value: unknown, what = 'object id'): Oid {
  if (!isOid(value)) {
    throw badOid(`${what} ${JSON.stringify(value)} is not a valid object id (expected b3:<64 hex>)`);
  }
  return value;
}

export function oidFromHex(hex: string): Oid {
  return `${OID_ALGO}:${hex}`;
}

export function oidHex(oid: Oid): string {
  return oid.slice(OID_ALGO.length + 1);
}

/** Abbreviation for people: `b3:4f1c2a9e`. */
export function shortOid(oid: Oid): string {
  return oid.slice(0, OID_ALGO.length + 9);
}
