/** Bytes per element of the safetensors dtypes the tests use. */
const WIDTH: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1 };

/**
 * A safetensors file built from its specification: an 8-byte little-endian header length, the JSON
 * header (tensor → dtype, shape, data offsets; `__metadata__`), then the tensors' bytes (zeros here).
 */
export function safetensors(tensors: Record<string, [string, number[]]>, metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, [dtype, shape]] of Object.entries(tensors)) {
    const bytes = shape.reduce((a, d) => a * d, 1) * WIDTH[dtype]!;
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, Buffer.alloc(offset)]);
}
