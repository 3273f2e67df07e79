import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Oid } from '../../src/hash/oid.js';
import type { ObjectStore } from '../../src/store/object-store.js';
import { resolveOid } from '../../src/store/resolve-oid.js';
import { MlxError } from '../../src/util/errors.js';
import { errorCode } from '../helpers/errors.js';
import { useTempStore } from '../helpers/repo.js';

const temp = useTempStore();
let store: ObjectStore;
beforeEach(() => {
  store = temp.store();
});

/** Puts a file where the store keeps `oid`: resolution only asks which oids exist, not what they hold. */
function placeAt(oid: Oid): void {
  fs.mkdirSync(path.dirname(store.pathOf(oid)), { recursive: true });
  fs.writeFileSync(store.pathOf(oid), 'x');
}

describe('resolveOid', () => {
  it('expands full oids and unique b3: prefixes of 8+ hex digits, in any case and with spaces around', () => {
    const oid = store.putBytes(Buffer.from('numpy==1.26.0\n'));
    expect(resolveOid(store, oid)).toBe(oid);
    expect(resolveOid(store, oid.slice(0, 11))).toBe(oid);
    expect(resolveOid(store, ` ${oid.slice(0, 11).toUpperCase()} `)).toBe(oid);
  });

  it('is undefined for an oid or prefix the store does not hold', () => {
    const oid = store.putBytes(Buffer.from('numpy==1.26.0\n'));
    const absent = oid.startsWith('b3:0') ? `b3:${'1'.repeat(64)}` : `b3:${'0'.repeat(64)}`;
    expect(resolveOid(store, absent)).toBeUndefined();
    expect(resolveOid(store, absent.slice(0, 11))).toBeUndefined();
  });

  it('refuses what is not an oid or a long enough prefix (EBADOID)', () => {
    const oid = store.putBytes(Buffer.from('numpy==1.26.0\n'));
    expect(errorCode(() => resolveOid(store, oid.slice(0, 10)))).toBe('EBADOID');
    expect(errorCode(() => resolveOid(store, 'r-0123456789abcdef'))).toBe('EBADOID');
    expect(errorCode(() => resolveOid(store, `sha256:${'0'.repeat(64)}`))).toBe('EBADOID');
  });

  it('refuses a prefix that several objects share (EAMBIGUOUSOID), and expands a longer one', () => {
    const [a, b] = [`b3:abcdef01${'0'.repeat(56)}`, `b3:abcdef01${'1'.repeat(56)}`] as Oid[];
    placeAt(a);
    placeAt(b);
    let err: unknown;
    try {
      resolveOid(store, 'b3:abcdef01');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MlxError);
    expect((err as MlxError).code).toBe('EAMBIGUOUSOID');
    expect((err as MlxError).data).toEqual({ ref: 'b3:abcdef01', matches: [a, b] });
    expect(resolveOid(store, 'b3:abcdef011')).toBe(b);
  });
});
