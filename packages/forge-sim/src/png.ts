/**
 * The simulator's own PNG codec: 8-bit RGB encoding with text chunks written the way Pillow's
 * `PngInfo.add_text` writes them, and a text-chunk reader for `/sdapi/v1/png-info`.
 *
 * File layout written here (Pillow puts text chunks before the image data too):
 *
 * ```
 * signature | IHDR | tEXt/iTXt ... | IDAT | IEND
 * ```
 */
import * as zlib from 'node:zlib';

/** An 8-bit RGB raster: `data` holds `width * height * 3` bytes, row by row. */
export interface RgbImage {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** Red, green and blue bytes per pixel, rows top to bottom. */
  readonly data: Uint8Array;
}

/** The eight bytes every PNG file starts with. */
export const PNG_SIGNATURE: Buffer = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// Level 1 with run-length matching only: on sub-filtered synthetic images it is both faster
// and smaller than the default strategy, and it does not stall on noisy previews.
const DEFLATE_OPTIONS = { level: 1, strategy: zlib.constants.Z_RLE } as const;
const FILTER_SUB = 1;
const MAX_KEYWORD_BYTES = 79;

const CRC_TABLE = buildCrcTable();

function buildCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let index = 0; index < 256; index++) {
    let value = index;
    for (let bit = 0; bit < 8; bit++) {
      value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
    }
    table[index] = value >>> 0;
  }
  return table;
}

/**
 * CRC-32 (ISO 3309, the one PNG and zlib use) of `bytes`, continuing from `previous`, computed
 * with a lookup table in JavaScript.
 *
 * @example
 * crc32(Buffer.from('123456789')); // 0xcbf43926
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  for (let index = 0; index < bytes.length; index++) {
    crc = (CRC_TABLE[(crc ^ (bytes[index] ?? 0)) & 0xff] ?? 0) ^ (crc >>> 8);
  }
  return ~crc >>> 0;
}

/**
 * Encodes an RGB image as a PNG, with optional text chunks in the given order.
 *
 * Each `[key, value]` becomes a `tEXt` chunk when the value is Latin-1 encodable and an
 * uncompressed `iTXt` chunk (UTF-8, empty language tag and translated keyword) otherwise,
 * exactly as Pillow's `PngInfo.add_text(key, value)`.
 *
 * @throws RangeError when the size or data length is wrong, or a key is not a 1-79 byte
 *   Latin-1 keyword
 * @example
 * const png = encodePng(image, [['parameters', infotext]]);
 */
export function encodePng(
  image: RgbImage,
  text: ReadonlyArray<readonly [key: string, value: string]> = [],
): Buffer {
  assertImage(image);
  const chunks = [chunk('IHDR', headerData(image.width, image.height))];
  for (const [key, value] of text) chunks.push(textChunk(key, value));
  chunks.push(chunk('IDAT', zlib.deflateSync(filterRows(image), DEFLATE_OPTIONS)));
  chunks.push(chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat([PNG_SIGNATURE, ...chunks]);
}

function assertImage(image: RgbImage): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new RangeError(
      `encodePng: width and height must be positive integers, got ${width}x${height}`,
    );
  }
  if (data.length !== width * height * 3) {
    throw new RangeError(
      `encodePng: a ${width}x${height} RGB image needs ${width * height * 3} bytes, got ${data.length}`,
    );
  }
}

function headerData(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: truecolour (RGB)
  // Bytes 10-12 stay 0: deflate compression, adaptive filtering, no interlace.
  return header;
}

/** Prefixes every scanline with the Sub filter: each byte minus the same channel to its left. */
function filterRows(image: RgbImage): Buffer {
  const { width, height, data } = image;
  const stride = width * 3;
  const out = Buffer.allocUnsafe((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const source = y * stride;
    const target = y * (stride + 1);
    out[target] = FILTER_SUB;
    for (let x = 0; x < 3 && x < stride; x++) out[target + 1 + x] = data[source + x] ?? 0;
    for (let x = 3; x < stride; x++) {
      out[target + 1 + x] = ((data[source + x] ?? 0) - (data[source + x - 3] ?? 0)) & 0xff;
    }
  }
  return out;
}

// Node 20.15+ ships a native CRC-32 about ten times faster than the table; the table is the
// fallback for older runtimes.
const nativeCrc32: ((data: Uint8Array, value?: number) => number) | undefined = (
  zlib as { crc32?: (data: Uint8Array, value?: number) => number }
).crc32;
const fastCrc32 = nativeCrc32 ?? crc32;

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(fastCrc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function textChunk(key: string, value: string): Buffer {
  const keyword = keywordBytes(key);
  if (isLatin1(value)) {
    return chunk('tEXt', Buffer.concat([keyword, Buffer.from([0]), Buffer.from(value, 'latin1')]));
  }
  // keyword NUL, compression flag 0, method 0, empty language NUL, empty translated keyword NUL
  const prefix = Buffer.from([0, 0, 0, 0, 0]);
  return chunk('iTXt', Buffer.concat([keyword, prefix, Buffer.from(value, 'utf8')]));
}

function keywordBytes(key: string): Buffer {
  if (!isLatin1(key) || key.length < 1 || key.length > MAX_KEYWORD_BYTES || key.includes('\0')) {
    throw new RangeError(
      `encodePng: text key ${JSON.stringify(key)} must be 1-${MAX_KEYWORD_BYTES} Latin-1 characters without NUL`,
    );
  }
  return Buffer.from(key, 'latin1');
}

function isLatin1(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    if (text.charCodeAt(index) > 0xff) return false;
  }
  return true;
}

/** One raw chunk of a PNG file. */
interface PngChunk {
  readonly type: string;
  readonly data: Buffer;
}

/**
 * Reads every `tEXt`, `zTXt` and `iTXt` chunk (compressed or not) of a PNG into a key-value
 * record, as Pillow's `image.info` does: `tEXt`/`zTXt` are Latin-1, `iTXt` UTF-8, and a key
 * that appears twice keeps its last value.
 *
 * @throws Error when the bytes are not a PNG, a chunk is truncated or fails its CRC, or a
 *   compressed text cannot be inflated
 */
export function readPngText(png: Uint8Array): Record<string, string> {
  const result: Record<string, string> = {};
  for (const { type, data } of readChunks(png)) {
    const entry = decodeTextChunk(type, data);
    if (entry) result[entry[0]] = entry[1];
  }
  return result;
}

/**
 * Width and height from a PNG's IHDR chunk.
 *
 * @throws Error when the bytes are not a PNG or do not start with a valid IHDR chunk
 */
export function decodePngSize(png: Uint8Array): { width: number; height: number } {
  const bytes = toBuffer(png);
  assertSignature(bytes);
  if (bytes.length < 33 || bytes.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error('Not a valid PNG: the first chunk must be a 13-byte IHDR');
  }
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

function assertSignature(bytes: Buffer): void {
  if (bytes.length < PNG_SIGNATURE.length || !bytes.subarray(0, 8).equals(PNG_SIGNATURE)) {
    throw new Error('Not a PNG: the data does not start with the PNG signature');
  }
}

/**
 * Splits a PNG into its chunks, up to and including IEND, checking lengths and CRCs.
 *
 * @throws Error when the bytes are not a PNG, or a chunk is truncated or corrupt
 */
export function readChunks(png: Uint8Array): PngChunk[] {
  const bytes = toBuffer(png);
  assertSignature(bytes);
  const chunks: PngChunk[] = [];
  let offset = PNG_SIGNATURE.length;
  while (offset < bytes.length) {
    const current = readChunkAt(bytes, offset);
    chunks.push(current);
    offset += 12 + current.data.length;
    if (current.type === 'IEND') break;
  }
  return chunks;
}

function readChunkAt(bytes: Buffer, offset: number): PngChunk {
  if (offset + 12 > bytes.length)
    throw new Error(`Truncated PNG: incomplete chunk at byte ${offset}`);
  const length = bytes.readUInt32BE(offset);
  const end = offset + 8 + length;
  if (end + 4 > bytes.length)
    throw new Error(`Truncated PNG: chunk at byte ${offset} runs past the end`);

  const type = bytes.toString('latin1', offset + 4, offset + 8);
  if (fastCrc32(bytes.subarray(offset + 4, end)) !== bytes.readUInt32BE(end)) {
    throw new Error(`Broken PNG: CRC mismatch in the ${type} chunk at byte ${offset}`);
  }
  return { type, data: bytes.subarray(offset + 8, end) };
}

function decodeTextChunk(type: string, data: Buffer): [string, string] | undefined {
  if (type !== 'tEXt' && type !== 'zTXt' && type !== 'iTXt') return undefined;
  const keyEnd = data.indexOf(0);
  if (keyEnd < 0) throw new Error(`Broken PNG: ${type} chunk has no keyword terminator`);
  const key = data.toString('latin1', 0, keyEnd);

  if (type === 'tEXt') return [key, data.toString('latin1', keyEnd + 1)];
  if (type === 'zTXt')
    return [key, inflateText(type, data.subarray(keyEnd + 2)).toString('latin1')];
  return [key, decodeInternationalText(data, keyEnd)];
}

function decodeInternationalText(data: Buffer, keyEnd: number): string {
  const compressed = data[keyEnd + 1] === 1;
  const languageEnd = data.indexOf(0, keyEnd + 3);
  const translatedEnd = languageEnd < 0 ? -1 : data.indexOf(0, languageEnd + 1);
  if (translatedEnd < 0) throw new Error('Broken PNG: iTXt chunk is missing its language fields');

  const body = data.subarray(translatedEnd + 1);
  return (compressed ? inflateText('iTXt', body) : body).toString('utf8');
}

function inflateText(type: string, body: Buffer): Buffer {
  try {
    return zlib.inflateSync(body);
  } catch (error) {
    throw new Error(`Broken PNG: cannot inflate the compressed ${type} text`, { cause: error });
  }
}
