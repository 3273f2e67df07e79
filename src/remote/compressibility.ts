/*
 * A cheap guess at whether zstd can shrink some bytes, made before trying it. Trying zstd on data that
 * does not compress (weights, images, archives: most of a checkpoint's bytes) costs about 1 s per GiB
 * here and gains nothing; this guess costs about 1 µs per object.
 *
 * It estimates the Shannon entropy of the byte values in an evenly spread sample (64 runs of 16 bytes,
 * the way filesystems with transparent compression decide): close to 8 bits per byte means no byte
 * value is much more common than another, which zstd's entropy stage needs to save anything, and a
 * spread sample of repeating content shows up as fewer distinct values. float32 weights (whose
 * exponent bytes repeat, zstd saves ~7%) sample at ~7.1 bits, random or compressed bytes at ~7.8.
 */

const RUNS = 64;
const RUN = 16;
const SAMPLE = RUNS * RUN;
/** Bits per byte above which the sample is taken to be incompressible: between float weights and noise. */
const INCOMPRESSIBLE_BITS = 7.5;

const counts = new Uint16Array(256);
/** c * log2(c) for every count a sample can produce. */
const cLog2c = Float64Array.from({ length: SAMPLE + 1 }, (_, c) => (c === 0 ? 0 : c * Math.log2(c)));

/**
 * True when `bytes` very likely would not compress: store them raw without trying. False means "try
 * zstd" (the caller still stores raw what zstd does not shrink enough). Inputs shorter than the sample
 * are always tried: the estimate would be too coarse, and zstd is cheap on them.
 */
export function looksIncompressible(bytes: Uint8Array): boolean {
  if (bytes.length < SAMPLE) return false;
  const step = Math.floor(bytes.length / RUNS);
  for (let start = 0, run = 0; run < RUNS; run++, start += step) {
    for (let i = start; i < start + RUN; i++) counts[bytes[i]!]!++;
  }
  let sum = 0;
  for (let v = 0; v < 256; v++) {
    const c = counts[v]!;
    if (c !== 0) {
      sum += cLog2c[c]!;
      counts[v] = 0;
    }
  }
  const bits = Math.log2(SAMPLE) - sum / SAMPLE;
  return bits > INCOMPRESSIBLE_BITS;
}
