import { describe, expect, it } from 'vitest';
import { readZstdFrame } from '../../src/formats/zstd-frame.js';
import { loadZstd, zstdBound } from '../../src/remote/zstd.js';

interface Block {
  type: 'raw' | 'rle' | 'compressed' | 'reserved';
  size: number;
}

/**
 * A frame put together by hand (RFC 8878): header fields as given, then the blocks, the last one marked.
 * Block contents are filler: only the headers and lengths matter to what is read here.
 */
function frame(opts: { sizeFieldBytes: 0 | 1 | 2 | 4 | 8; contentSize?: number; dictionaryBytes?: 0 | 1 | 2 | 4; checksum?: boolean; blocks: Block[]; reserved?: boolean }): Buffer {
  const singleSegment = opts.sizeFieldBytes !== 0; // a frame that leaves its size out has a window descriptor instead
  const sizeFlag = { 0: 0, 1: 0, 2: 1, 4: 2, 8: 3 }[opts.sizeFieldBytes];
  const dictionaryFlag = { 0: 0, 1: 1, 2: 2, 4: 3 }[opts.dictionaryBytes ?? 0];
  const descriptor = (sizeFlag << 6) | ((singleSegment ? 1 : 0) << 5) | ((opts.reserved ? 1 : 0) << 3) | ((opts.checksum ? 1 : 0) << 2) | dictionaryFlag;
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, descriptor])];
  if (!singleSegment) parts.push(Buffer.from([0x58])); // window descriptor
  parts.push(Buffer.alloc(opts.dictionaryBytes ?? 0, 7));
  const size = Buffer.alloc(opts.sizeFieldBytes);
  const value = opts.contentSize ?? 0;
  if (opts.sizeFieldBytes === 1) size.writeUInt8(value);
  if (opts.sizeFieldBytes === 2) size.writeUInt16LE(value - 256);
  if (opts.sizeFieldBytes === 4) size.writeUInt32LE(value);
  if (opts.sizeFieldBytes === 8) size.writeBigUInt64LE(BigInt(value));
  parts.push(size);
  opts.blocks.forEach((b, i) => {
    const type = ['raw', 'rle', 'compressed', 'reserved'].indexOf(b.type);
    const header = (b.size << 3) | (type << 1) | (i === opts.blocks.length - 1 ? 1 : 0);
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]));
    parts.push(Buffer.alloc(b.type === 'rle' ? 1 : b.size, 0x61));
  });
  if (opts.checksum) parts.push(Buffer.alloc(4, 9));
  return Buffer.concat(parts);
}

describe('readZstdFrame', () => {
  it('reads the declared size in each of its four widths, and the frame length', () => {
    for (const [sizeFieldBytes, contentSize] of [[1, 200], [2, 256], [2, 65_791], [4, 70_000], [8, 2 ** 40]] as const) {
      const f = frame({ sizeFieldBytes, contentSize, blocks: [{ type: 'raw', size: 10 }] });
      expect(readZstdFrame(f)).toEqual({ contentSize, frameSize: f.length });
    }
  });

  it('counts every block to the last, an RLE block as one byte, then the checksum', () => {
    const f = frame({ sizeFieldBytes: 4, contentSize: 5000, checksum: true, dictionaryBytes: 2, blocks: [{ type: 'compressed', size: 900 }, { type: 'rle', size: 3000 }, { type: 'raw', size: 1100 }] });
    expect(f.length).toBe(4 + 1 + 2 + 4 + 3 + 900 + 3 + 1 + 3 + 1100 + 4);
    expect(readZstdFrame(f)).toEqual({ contentSize: 5000, frameSize: f.length });
  });

  it('stops at the frame end: bytes after it are not part of it', () => {
    const f = frame({ sizeFieldBytes: 1, contentSize: 3, blocks: [{ type: 'raw', size: 3 }] });
    expect(readZstdFrame(Buffer.concat([f, Buffer.from('trailing')]))).toEqual({ contentSize: 3, frameSize: f.length });
  });

  it('says nothing of the size where the header leaves it out', () => {
    const f = frame({ sizeFieldBytes: 0, blocks: [{ type: 'raw', size: 4 }] });
    expect(readZstdFrame(f)).toEqual({ contentSize: undefined, frameSize: f.length });
  });

  it('refuses what is no whole frame: another magic, the reserved bit, a reserved block, a cut anywhere', () => {
    const good = frame({ sizeFieldBytes: 2, contentSize: 300, checksum: true, blocks: [{ type: 'compressed', size: 40 }, { type: 'raw', size: 20 }] });
    expect(readZstdFrame(Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18]), good.subarray(4)]))).toBeUndefined();
    expect(readZstdFrame(frame({ sizeFieldBytes: 1, contentSize: 1, reserved: true, blocks: [{ type: 'raw', size: 1 }] }))).toBeUndefined();
    expect(readZstdFrame(frame({ sizeFieldBytes: 1, contentSize: 1, blocks: [{ type: 'reserved', size: 1 }] }))).toBeUndefined();
    for (let cut = 0; cut < good.length; cut++) expect(readZstdFrame(good.subarray(0, cut))).toBeUndefined();
  });

  it('agrees with the frames the zstd in use writes', () => {
    const zstd = loadZstd();
    for (const size of [1, 300, 70_000, 300_000]) {
      const src = Buffer.from('row,0.25,label\n'.repeat(Math.ceil(size / 15)).slice(0, size));
      const dst = Buffer.alloc(zstdBound(size));
      const len = zstd.compressInto(dst, src, 3);
      expect(readZstdFrame(dst.subarray(0, len))).toEqual({ contentSize: size, frameSize: len });
    }
  });
});
