import { badOid } from '../util/errors.js';

/** The only algorithm mlx writes today: BLAKE3-256. The prefix leaves room for others. */
export const OID_ALGO = 'b3';

/** An object id: `b3:` followed by 64 lowercase hex digits. */
export type Oid = string;

/** 1 for the char codes of lowercase hex digits. */
const HEX_DIGIT = new Uint8Array(128);
for (const c of '0123456789abcdef') HEX_DIGIT[c.charCodeAt(0)] = 1;

export function isOid(value: unknown): value is Oid {
  if (typeof value !== 'string' || value.length !== 67 || !value.startsWith('b3:')) return false;
  // Called once per file of a directory: one table load per character, with no branch on the way, is
  // about three times cheaper than two range tests (and than a regex).
  let bad = 0;
  for (let i = 3; i < 67; i++) {
    const c = value.charCodeAt(i);
    bad |= c < 128 ? HEX_DIGIT[c]! ^ 1 : 1;
  }
  return bad === 0;
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
