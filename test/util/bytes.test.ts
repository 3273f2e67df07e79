import { describe, expect, it } from 'vitest';
import { compareByteRanges } from '../../src/util/bytes.js';

describe('compareByteRanges', () => {
  const sign = (n: number) => Math.sign(n);
  it('orders ranges as Buffer.compare does: by bytes, then a prefix first', () => {
    const words = ['', 'a', 'ab', 'abc', 'abd', 'b', 'é', 'z', 'a/b', 'a.b'].map((w) => Buffer.from(w));
    for (const x of words) {
      for (const y of words) expect(sign(compareByteRanges(x, 0, x.length, y, 0, y.length))).toBe(Buffer.compare(x, y));
    }
  });

  it('compares ranges inside larger buffers', () => {
    const buf = Buffer.from('xxabcyyabdzz');
    expect(compareByteRanges(buf, 2, 5, buf, 7, 10)).toBeLessThan(0);
    expect(compareByteRanges(buf, 2, 4, buf, 7, 9)).toBe(0);
    expect(compareByteRanges(buf, 7, 10, buf, 2, 4)).toBeGreaterThan(0);
  });
});
