/**
 * Orders `a[aStart..aEnd)` against `b[bStart..bEnd)` by their bytes (negative, zero, positive). For the
 * short ranges of paths a plain loop beats `Buffer.compare`, whose argument checks cost more than
 * the comparison when it runs once per file of a large tree.
 */
export function compareByteRanges(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number {
  const aLen = aEnd - aStart;
  const bLen = bEnd - bStart;
  const n = aLen < bLen ? aLen : bLen;
  for (let i = 0; i < n; i++) {
    const d = a[aStart + i]! - b[bStart + i]!;
    if (d !== 0) return d;
  }
  return aLen - bLen;
}
