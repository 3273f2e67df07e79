import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { probeFile, readOutputFormats, SAFETENSORS_MAX_HEADER, TENSOR_LIST_LIMIT } from '../../src/run/output-format.js';
import { safetensors } from '../helpers/checkpoints.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-format-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Buffer | string): string {
  fs.writeFileSync(path.join(dir, name), bytes);
  return name;
}
const probe = (name: string) => probeFile(path.join(dir, name), name);

/** A zip with one stored member, enough for its local header and central directory to be read. */
function zip(member: string, data = 'x'): Buffer {
  const name = Buffer.from(member);
  const local = Buffer.alloc(30);
  local.write('PK\x03\x04', 0, 'latin1');
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.write('PK\x01\x02', 0, 'latin1');
  central.writeUInt16LE(name.length, 28);
  const end = Buffer.alloc(22);
  end.write('PK\x05\x06', 0, 'latin1');
  return Buffer.concat([local, name, Buffer.from(data), central, name, end]);
}

describe('checkpoint headers', () => {
  it('safetensors: tensors, dtypes, shapes, parameter count and __metadata__, from the header alone', () => {
    file('m.safetensors', safetensors({ 'w.weight': ['F32', [4, 3]], 'w.bias': ['F32', [4]], emb: ['BF16', [10, 2]] }, { step: '300', format: 'pt' }));
    expect(probe('m.safetensors')).toEqual({
      format: {
        format: 'safetensors',
        size: fs.statSync(path.join(dir, 'm.safetensors')).size,
        parameters: 36,
        tensor_count: 3,
        dtypes: { F32: 16, BF16: 20 },
        tensors: { 'w.weight': 'F32 [4, 3]', 'w.bias': 'F32 [4]', emb: 'BF16 [10, 2]' },
        metadata: { step: '300', format: 'pt' },
      },
    });
  });

  it('a checkpoint with many tensors records counts only; a long metadata value is cut', () => {
    const many = Object.fromEntries(Array.from({ length: TENSOR_LIST_LIMIT + 1 }, (_, i) => [`layer${i}`, ['F16', [2]] as [string, number[]]]));
    file('big.safetensors', safetensors(many, { config: 'x'.repeat(500) }));
    const f = (probe('big.safetensors') as { format: Record<string, unknown> }).format;
    expect(f.tensors).toBeUndefined();
    expect(f).toMatchObject({ tensor_count: TENSOR_LIST_LIMIT + 1, parameters: 2 * (TENSOR_LIST_LIMIT + 1), dtypes: { F16: 2 * (TENSOR_LIST_LIMIT + 1) } });
    expect((f.metadata as Record<string, string>).config).toMatch(/^x{200}… \(500 characters\)$/);
  });

  it('a malformed safetensors file is named with what is wrong, never thrown', () => {
    const absurd = Buffer.alloc(16);
    absurd.writeBigUInt64LE(BigInt(SAFETENSORS_MAX_HEADER) + 1n);
    file('absurd.safetensors', absurd);
    expect(probe('absurd.safetensors')).toEqual({ malformed: `not a valid safetensors file (header length ${SAFETENSORS_MAX_HEADER + 1} is over the ${SAFETENSORS_MAX_HEADER}-byte limit)` });
    const long = Buffer.alloc(16);
    long.writeBigUInt64LE(1000n);
    file('long.safetensors', long);
    expect(probe('long.safetensors')).toEqual({ malformed: 'not a valid safetensors file (header length 1000 is more than the 8 bytes after it)' });
    const notJson = Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{ab}')]);
    file('nj.safetensors', notJson);
    expect(probe('nj.safetensors')).toMatchObject({ malformed: expect.stringMatching(/^not a valid safetensors file \(header is not JSON/) });
    file('short.safetensors', 'abc');
    expect(probe('short.safetensors')).toEqual({ malformed: 'not a valid safetensors file (3 bytes, shorter than the 8-byte header length)' });
    const outside = safetensors({ w: ['F32', [4]] }).subarray(0, -4); // data cut off
    file('cut.safetensors', outside);
    expect(probe('cut.safetensors')).toEqual({ malformed: 'not a valid safetensors file (tensor "w" has data offsets outside the file)' });
    // Not named .safetensors and not one: just some other file.
    file('data.bin', Buffer.concat([Buffer.alloc(8, 0xff), Buffer.from('{rest')]));
    expect(probe('data.bin')).toBeUndefined();
    // A file that is one, whatever its name.
    file('weights.bin', safetensors({ w: ['F32', [2]] }));
    expect(probe('weights.bin')).toMatchObject({ format: { format: 'safetensors', parameters: 2 } });
  });

  it('other formats by their magic bytes: size and format (and what their header says cheaply)', () => {
    const npyHeader = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }".padEnd(118, ' ') + '\n';
    const npy = Buffer.concat([Buffer.from('\x93NUMPY\x01\x00', 'latin1'), Buffer.from([npyHeader.length, 0]), Buffer.from(npyHeader), Buffer.alloc(48)]);
    file('a.npy', npy);
    expect(probe('a.npy')).toEqual({ format: { format: 'numpy', size: npy.length, version: 1, parameters: 12, tensor_count: 1, dtypes: { '<f4': 12 }, tensors: { array: '<f4 [3, 4]' } } });
    const gguf = Buffer.alloc(32);
    gguf.write('GGUF', 0, 'latin1');
    gguf.writeUInt32LE(3, 4);
    gguf.writeBigUInt64LE(291n, 8);
    file('m.gguf', gguf);
    expect(probe('m.gguf')).toEqual({ format: { format: 'gguf', size: 32, version: 3, tensor_count: 291 } });
    file('m.h5', Buffer.concat([Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'), Buffer.alloc(8)]));
    expect(probe('m.h5')).toEqual({ format: { format: 'hdf5', size: 16 } });
    file('model.pt', zip('archive/data.pkl'));
    expect(probe('model.pt')).toMatchObject({ format: { format: 'pytorch' } });
    file('arrays.npz', zip('x.npy'));
    expect(probe('arrays.npz')).toMatchObject({ format: { format: 'numpy-npz' } });
    file('other.zip', zip('readme.txt'));
    expect(probe('other.zip')).toMatchObject({ format: { format: 'zip' } });
    file('old.pt', Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]));
    expect(probe('old.pt')).toEqual({ format: { format: 'pickle', size: 6, version: 2 } });
    file('m.onnx', Buffer.from([0x08, 0x07, 0x12, 0x00]));
    expect(probe('m.onnx')).toEqual({ format: { format: 'onnx', size: 4, version: 7 } });
    file('notes.txt', 'hello');
    expect(probe('notes.txt')).toBeUndefined();
    file('empty.bin', '');
    expect(probe('empty.bin')).toBeUndefined();
  });

  it('an output directory: its checkpoint-named files, a malformed one as a warning', () => {
    fs.mkdirSync(path.join(dir, 'ckpt/sub'), { recursive: true });
    file('ckpt/sub/model.safetensors', safetensors({ w: ['F32', [2, 2]] }));
    file('ckpt/bad.safetensors', 'abc');
    file('ckpt/readme.md', 'x');
    const warnings: string[] = [];
    const formats = readOutputFormats(path.join(dir, 'ckpt'), 'out/ckpt', (w) => warnings.push(w));
    expect(Object.keys(formats)).toEqual(['out/ckpt/sub/model.safetensors']);
    expect(warnings).toEqual(['out/ckpt/bad.safetensors: not a valid safetensors file (3 bytes, shorter than the 8-byte header length); its header is not recorded']);
  });
});
