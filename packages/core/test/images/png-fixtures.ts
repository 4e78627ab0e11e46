/**
 * A tiny PNG encoder for tests, written apart from the code under test: it builds grey 8-bit
 * images chunk by chunk so a test can place, corrupt or cut any chunk it likes.
 */
import { Buffer } from 'node:buffer';
import { crc32, deflateSync, inflateSync } from 'node:zlib';

export const PNG_SIGNATURE = Buffer.from('89504e470d0a1a0a', 'hex');

/** One chunk: length, type, data, CRC-32 over type and data. */
export function pngChunk(type: string, data: Uint8Array = new Uint8Array()): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/** IHDR data for an 8-bit greyscale image without interlacing. */
export function headerData(width: number, height: number): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data[8] = 8;
  return data;
}

/** Scanlines for a greyscale gradient: one filter byte (0) then one byte per pixel. */
export function rawScanlines(width: number, height: number): Buffer {
  const rows = Array.from({ length: height }, (_, row) =>
    Buffer.from([0, ...Array.from({ length: width }, (_, column) => (row * 16 + column) & 0xff)]),
  );
  return Buffer.concat(rows);
}

/** Where extra chunks go in {@link encodeTestPng}. */
export interface TestPngChunks {
  beforeImageData?: readonly Buffer[];
  afterImageData?: readonly Buffer[];
  /** Split the image data over this many IDAT chunks. */
  imageDataChunks?: number;
}

/** A whole PNG with the given chunks around its IDAT. */
export function encodeTestPng(width: number, height: number, chunks: TestPngChunks = {}): Buffer {
  const compressed = deflateSync(rawScanlines(width, height));
  const parts = chunks.imageDataChunks ?? 1;
  const size = Math.ceil(compressed.length / parts);
  const imageData = Array.from({ length: parts }, (_, index) =>
    pngChunk('IDAT', compressed.subarray(index * size, (index + 1) * size)),
  );
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', headerData(width, height)),
    ...(chunks.beforeImageData ?? []),
    ...imageData,
    ...(chunks.afterImageData ?? []),
    pngChunk('IEND'),
  ]);
}

/** tEXt: keyword NUL Latin-1 text. */
export function textChunk(keyword: string, text: string): Buffer {
  return pngChunk('tEXt', Buffer.from(`${keyword}\0${text}`, 'latin1'));
}

/** zTXt: keyword NUL, method 0, zlib-compressed Latin-1 text. */
export function compressedTextChunk(keyword: string, text: string): Buffer {
  const head = Buffer.from(`${keyword}\0\0`, 'latin1');
  return pngChunk('zTXt', Buffer.concat([head, deflateSync(Buffer.from(text, 'latin1'))]));
}

/** Options of {@link internationalTextChunk}. */
export interface InternationalTextOptions {
  compressed?: boolean;
  language?: string;
  translatedKeyword?: string;
}

/** iTXt: keyword NUL, flag, method 0, language NUL, translated keyword NUL, UTF-8 text. */
export function internationalTextChunk(
  keyword: string,
  text: string,
  options: InternationalTextOptions = {},
): Buffer {
  const utf8 = Buffer.from(text, 'utf8');
  const body = options.compressed === true ? deflateSync(utf8) : utf8;
  return pngChunk(
    'iTXt',
    Buffer.concat([
      Buffer.from(`${keyword}\0`, 'latin1'),
      Buffer.of(options.compressed === true ? 1 : 0, 0),
      Buffer.from(`${options.language ?? ''}\0${options.translatedKeyword ?? ''}\0`, 'utf8'),
      body,
    ]),
  );
}

/** A listed chunk: its type, data and where it starts. */
export interface ListedChunk {
  type: string;
  data: Buffer;
  offset: number;
}

/** Lists the chunks of a PNG that is known to be well formed (no checks). */
export function listChunks(png: Buffer): ListedChunk[] {
  const chunks: ListedChunk[] = [];
  for (let offset = PNG_SIGNATURE.length; offset < png.length;) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    chunks.push({ type, data: png.subarray(offset + 8, offset + 8 + length), offset });
    offset += 12 + length;
    if (type === 'IEND') break;
  }
  return chunks;
}

/** The decompressed pixel rows of a PNG, to show they were not touched. */
export function inflateImageData(png: Buffer): Buffer {
  const imageData = listChunks(png).filter(({ type }) => type === 'IDAT');
  return inflateSync(Buffer.concat(imageData.map(({ data }) => data)));
}
