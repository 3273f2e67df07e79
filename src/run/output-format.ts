import fs from 'node:fs';
import path from 'node:path';
import type { OutputFormat } from '../formats/run-lock.js';

/*
 * What an output file says about itself, read from its header only: checkpoints and arrays in the
 * formats ML code writes. A file is recognised by its magic bytes (ONNX, which has none, by its name
 * and first protobuf tag); a file in no known format gives nothing, and a malformed header gives one
 * warning, never an error: the run itself succeeded.
 */

/** The largest safetensors header read (the format's own reference reader refuses larger ones). */
export const SAFETENSORS_MAX_HEADER = 100_000_000;
/** Checkpoints with more tensors record counts only, so mlx.lock stays readable; the file keeps the full list. */
export const TENSOR_LIST_LIMIT = 64;
/** Metadata values longer than this are cut, with their length said. */
const METADATA_VALUE_LIMIT = 200;
/** How much of a zip's end is searched for its member names. */
const ZIP_TAIL = 1 << 20;

/** File names probed inside an output directory (a directory may hold a dataset of any size). */
const CHECKPOINT_NAME = /\.(safetensors|pt|pth|bin|ckpt|gguf|onnx|h5|hdf5|keras|npy|npz|pkl|pickle|joblib)$/i;
/** At most this many entries of an output directory are looked at, and this many files recorded. */
const DIR_SCAN_LIMIT = 1_000;
const DIR_RECORD_LIMIT = 100;

/** A file's header as read: the format facts, or why the file does not hold what its name says. */
type Probe = { format: OutputFormat } | { malformed: string } | undefined;

/**
 * The formats of an output: for a file, itself; for a directory, its files with checkpoint-like
 * names (output-relative paths under the output's). Keys are repo-relative paths.
 */
export function readOutputFormats(absOut: string, relOut: string, onWarning?: (w: string) => void): Record<string, OutputFormat> {
  const out: Record<string, OutputFormat> = {};
  const probeOne = (abs: string, rel: string) => {
    let p: Probe;
    try {
      p = probeFile(abs, rel);
    } catch (err) {
      // The command succeeded and its outputs are stored: a header that cannot be read loses only itself.
      onWarning?.(`${rel}: its header could not be read (${(err as Error).message.split('\n')[0]}); it is not recorded`);
      return;
    }
    if (p && 'malformed' in p) onWarning?.(`${rel}: ${p.malformed}; its header is not recorded`);
    else if (p) out[rel] = p.format;
  };
  const stat = fs.statSync(absOut);
  if (stat.isFile()) {
    probeOne(absOut, relOut);
    return out;
  }
  let seen = 0;
  const walk = (absDir: string, relDir: string) => {
    for (const e of fs.readdirSync(absDir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (++seen > DIR_SCAN_LIMIT || Object.keys(out).length >= DIR_RECORD_LIMIT) return;
      const abs = path.join(absDir, e.name);
      const rel = `${relDir}/${e.name}`;
      if (e.isDirectory()) walk(abs, rel);
      else if (e.isFile() && CHECKPOINT_NAME.test(e.name)) probeOne(abs, rel);
    }
  };
  walk(absOut, relOut);
  return out;
}

/** Reads what a file's header says; undefined for a file in no known format. */
export function probeFile(abs: string, rel: string): Probe {
  const fd = fs.openSync(abs, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const head = read(fd, 0, Math.min(size, 64));
    const base = { size };
    if (startsWith(head, '\x93NUMPY')) return numpyHeader(fd, size);
    if (startsWith(head, '\x89HDF\r\n\x1a\n')) return { format: { format: 'hdf5', ...base } };
    if (startsWith(head, 'GGUF') && head.length >= 24) {
      return { format: { format: 'gguf', ...base, version: head.readUInt32LE(4), tensor_count: safeNumber(head.readBigUInt64LE(8)) } };
    }
    if (startsWith(head, 'PK\x03\x04')) return { format: { format: zipKind(fd, size, head), ...base } };
    if (head.length >= 2 && head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5 && read(fd, size - 1, 1)[0] === 0x2e) {
      // Protocol 2-5 opcode first, STOP last: a pickle (torch.save before 1.6, joblib, sklearn).
      return { format: { format: 'pickle', ...base, version: head[1] } };
    }
    const named = /\.safetensors$/i.test(rel);
    if (named || (head.length >= 9 && head[8] === 0x7b)) {
      const st = safetensorsHeader(fd, size);
      if ('format' in st || named) return st;
      return undefined; // not named safetensors and not one: some other binary file
    }
    if (/\.onnx$/i.test(rel) && head[0] === 0x08) {
      const version = varint(head, 1);
      return { format: { format: 'onnx', ...base, ...(version === undefined ? {} : { version }) } };
    }
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** safetensors: an 8-byte little-endian header length, then that much JSON: tensor → {dtype, shape, data_offsets}, and `__metadata__`. */
function safetensorsHeader(fd: number, size: number): { format: OutputFormat } | { malformed: string } {
  const bad = (why: string) => ({ malformed: `not a valid safetensors file (${why})` });
  if (size < 8) return bad(`${size} bytes, shorter than the 8-byte header length`);
  const n = read(fd, 0, 8).readBigUInt64LE(0);
  if (n > BigInt(SAFETENSORS_MAX_HEADER)) return bad(`header length ${n} is over the ${SAFETENSORS_MAX_HEADER}-byte limit`);
  if (Number(n) > size - 8) return bad(`header length ${n} is more than the ${size - 8} bytes after it`);
  let header: unknown;
  try {
    header = JSON.parse(read(fd, 8, Number(n)).toString('utf8'));
  } catch (err) {
    return bad(`header is not JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isMap(header)) return bad('header is not a JSON object');
  const dataSize = size - 8 - Number(n);
  const tensors: Record<string, string> = {};
  const dtypes: Record<string, number> = {};
  let parameters = 0;
  let metadata: Record<string, unknown> | undefined;
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isMap(t)) return bad('__metadata__ is not a map');
      metadata = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, shortValue(v)]));
      continue;
    }
    if (!isMap(t) || typeof t.dtype !== 'string' || !Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      return bad(`tensor ${JSON.stringify(name)} has no dtype and shape`);
    }
    const offsets = t.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0) || offsets[0] > offsets[1] || offsets[1] > dataSize) {
      return bad(`tensor ${JSON.stringify(name)} has data offsets outside the file`);
    }
    const count = (t.shape as number[]).reduce((a, d) => a * d, 1);
    parameters += count;
    dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + count;
    tensors[name] = `${t.dtype} [${(t.shape as number[]).join(', ')}]`;
  }
  const tensorCount = Object.keys(tensors).length;
  return {
    format: {
      format: 'safetensors',
      size,
      parameters,
      tensor_count: tensorCount,
      dtypes,
      ...(tensorCount <= TENSOR_LIST_LIMIT ? { tensors } : {}),
      ...(metadata ? { metadata } : {}),
    },
  };
}

/** numpy .npy: magic, version, a header length (2 bytes in v1, 4 after), then a Python dict literal. */
function numpyHeader(fd: number, size: number): { format: OutputFormat } | { malformed: string } {
  const head = read(fd, 0, Math.min(size, 12));
  const major = head[6] ?? 0;
  const lenBytes = major === 1 ? 2 : 4;
  if (head.length < 8 + lenBytes) return { malformed: 'not a valid .npy file (cut off in its header)' };
  const n = lenBytes === 2 ? head.readUInt16LE(8) : head.readUInt32LE(8);
  if (n > 1 << 20 || 8 + lenBytes + n > size) return { malformed: `not a valid .npy file (header length ${n})` };
  const dict = read(fd, 8 + lenBytes, n).toString('latin1');
  const descr = /'descr':\s*'([^']*)'/.exec(dict)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(dict)?.[1];
  if (descr === undefined || shapeText === undefined) return { malformed: 'not a valid .npy file (no descr or shape in its header)' };
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return { malformed: 'not a valid .npy file (a bad shape)' };
  const count = shape.reduce((a, d) => a * d, 1);
  return { format: { format: 'numpy', size, version: major, parameters: count, tensor_count: 1, dtypes: { [descr]: count }, tensors: { array: `${descr} [${shape.join(', ')}]` } } };
}

/**
 * A PyTorch checkpoint (torch.save since 1.6) is a zip holding `<archive>/data.pkl`; an .npz one of
 * .npy arrays. Member names are read from the first local header and the central directory at the end.
 */
function zipKind(fd: number, size: number, head: Buffer): string {
  const names: string[] = [];
  if (head.length >= 30) {
    const nameLen = head.readUInt16LE(26);
    names.push(read(fd, 30, Math.min(nameLen, 1024)).toString('utf8'));
  }
  const tailStart = Math.max(0, size - ZIP_TAIL);
  const tail = read(fd, tailStart, size - tailStart);
  for (let i = tail.indexOf('PK\x01\x02', 0, 'latin1'); i >= 0 && i + 46 <= tail.length; i = tail.indexOf('PK\x01\x02', i + 4, 'latin1')) {
    const nameLen = tail.readUInt16LE(i + 28);
    names.push(tail.subarray(i + 46, i + 46 + nameLen).toString('utf8'));
  }
  if (names.some((n) => n === 'data.pkl' || n.endsWith('/data.pkl'))) return 'pytorch';
  if (names.length > 0 && names.every((n) => n.endsWith('.npy'))) return 'numpy-npz';
  return 'zip';
}

function read(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(Math.max(0, length));
  let done = 0;
  while (done < buf.length) {
    const n = fs.readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

function startsWith(buf: Buffer, magic: string): boolean {
  return buf.length >= magic.length && buf.subarray(0, magic.length).equals(Buffer.from(magic, 'latin1'));
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function safeNumber(n: bigint): number {
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

/** A protobuf varint at `at` (ONNX's ir_version), or undefined when cut off. */
function varint(buf: Buffer, at: number): number | undefined {
  let v = 0;
  for (let i = 0; i < 8 && at + i < buf.length; i++) {
    v += (buf[at + i]! & 0x7f) * 2 ** (7 * i);
    if ((buf[at + i]! & 0x80) === 0) return v;
  }
  return undefined;
}

/** A metadata value as text (the format holds strings; anything else is kept as its JSON), cut when long. */
function shortValue(v: unknown): string {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  if (text.length <= METADATA_VALUE_LIMIT) return text;
  return `${text.slice(0, METADATA_VALUE_LIMIT)}… (${text.length} characters)`;
}
