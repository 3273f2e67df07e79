import { badOid } from '../util/errors.js';

/** The only algorithm mlx writes today: BLAKE3-256. The prefix leaves room for others. */
export const OID_ALGO = 'b3';
const OID_RE = /^b3:[0-9a-f]{64}$/;

/** An object id: `b3:` followed by 64 lowercase hex digits. */
export type Oid = string;

export function isOid(value: unknown): value is Oid {
  return typeof value === 'string' && OID_RE.test(value);
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
