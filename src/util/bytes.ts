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

/**
 * Compares a..aEnd of `a` with the bytes of `prefix` followed by b..bEnd of `b`, as compareByteRanges
 * would with the two joined: a repository path against a tracked folder and a path inside it, with no
 * joined copy made.
 */
export function compareWithJoined(a: Uint8Array, aStart: number, aEnd: number, prefix: Uint8Array, b: Uint8Array, bStart: number, bEnd: number): number {
  const aLen = aEnd - aStart;
  const p = prefix.length;
  const n = aLen < p ? aLen : p;
  for (let i = 0; i < n; i++) {
    const d = a[aStart + i]! - prefix[i]!;
    if (d !== 0) return d;
  }
  if (aLen <= p) return aLen - (p + bEnd - bStart);
  return compareByteRanges(a, aStart + p, aEnd, b, bStart, bEnd);
}

/** Whether string `text` is the ASCII bytes `start`..`end` of `bytes` (an oid against a manifest's bytes, with no string made of them). */
export function asciiEquals(text: string, bytes: Uint8Array, start: number, end: number): boolean {
  if (text.length !== end - start) return false;
  for (let k = 0; k < text.length; k++) if (text.charCodeAt(k) !== bytes[start + k]) return false;
  return true;
}
