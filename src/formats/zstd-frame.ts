/*
 * The two facts mlx checks about a zstd frame before decoding it (RFC 8878, section 3.1.1): the content
 * size its header declares and how many bytes the frame takes. Read here rather than asked of a zstd
 * library, so a pack member is judged the same way whichever zstd implementation decodes it.
 */

const MAGIC = 0xfd2fb528;
/** Block types (Block_Type in a block header) read apart: RLE holds one byte whatever its size; raw and compressed hold `size` bytes. */
const RLE = 1;
const RESERVED = 3;
/** The largest block a frame may hold (Block_Maximum_Size). */
const BLOCK_MAX = 128 * 1024;

/** What a frame's header and block headers say, or undefined when `data` does not start with a whole, well-formed frame. */
export interface ZstdFrameFacts {
  /** The decoded size the header declares; undefined when the header leaves it out. */
  contentSize: number | undefined;
  /** Bytes from the magic number to the end of the frame (its checksum included). */
  frameSize: number;
}

/** Reads the header and walks the block headers of the zstd frame at the start of `data`. */
export function readZstdFrame(data: Uint8Array): ZstdFrameFacts | undefined {
  if (data.length < 6) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(0, true) !== MAGIC) return undefined;
  const descriptor = data[4]!;
  const sizeFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const reserved = (descriptor >> 3) & 1;
  const checksum = (descriptor >> 2) & 1;
  const dictionaryBytes = [0, 1, 2, 4][descriptor & 3]!;
  if (reserved) return undefined;
  const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][sizeFlag]!;
  let at = 5 + (singleSegment ? 0 : 1) + dictionaryBytes;
  if (at + sizeBytes > data.length) return undefined;
  const contentSize = readContentSize(view, at, sizeBytes);
  at += sizeBytes;
  for (;;) {
    if (at + 3 > data.length) return undefined;
    const header = data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16);
    const last = header & 1;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === RESERVED || size > BLOCK_MAX) return undefined;
    at += 3 + (type === RLE ? 1 : size);
    if (at > data.length) return undefined;
    if (last) break;
  }
  if (checksum) at += 4;
  if (at > data.length) return undefined;
  return { contentSize, frameSize: at };
}

/** Frame_Content_Size: 1, 4 or 8 bytes as they are, 2 bytes offset by 256; 0 bytes when not declared. */
function readContentSize(view: DataView, at: number, bytes: number): number | undefined {
  switch (bytes) {
    case 0:
      return undefined;
    case 1:
      return view.getUint8(at);
    case 2:
      return view.getUint16(at, true) + 256;
    case 4:
      return view.getUint32(at, true);
    default:
      return Number(view.getBigUint64(at, true));
  }
}
