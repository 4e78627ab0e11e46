/**
 * A PNG pixel decoder, enough to make previews of what Forge and its extensions return: every
 * colour type, every filter type, bit depths 1 to 16. Samples come out as 8 bits per channel,
 * rows top to bottom without padding.
 *
 * Steps (PNG specification, sections 7 to 10): check the chunk stream (png-text.ts does that,
 * CRCs included), read IHDR, concatenate and inflate the IDAT chunks, undo the per-row filter,
 * then unpack samples to 8 bits (sub-byte depths scaled up, 16-bit depths cut to their high
 * byte, palette indexes looked up).
 *
 * Not handled: interlaced (Adam7) images are refused with a clear error, and the single-colour
 * transparency of a `tRNS` chunk on greyscale or truecolour images is ignored (the colour stays
 * opaque); palette transparency is applied.
 */
import { Buffer } from 'node:buffer';
import { inflateSync } from 'node:zlib';

import { ForgeToolError } from '../errors.js';
import { PngError, readPngSize } from './png-text.js';

/** Channels per pixel of a decoded image: grey, grey + alpha, RGB or RGBA. */
export type PixelChannels = 1 | 2 | 3 | 4;

/** Pixels with 8 bits per channel, row by row, no padding between rows. */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly channels: PixelChannels;
  /** `width * height * channels` bytes. */
  readonly data: Uint8Array;
}

/** The IHDR fields that decide how pixel data is laid out. */
interface PngHeader {
  readonly width: number;
  readonly height: number;
  readonly bitDepth: number;
  readonly colorType: number;
  readonly interlace: number;
}

/** The chunks the decoder needs. */
interface PixelChunks {
  readonly header: PngHeader;
  readonly palette: Buffer | null;
  readonly transparency: Buffer | null;
  readonly imageData: Buffer[];
}

/** Samples per pixel and allowed bit depths of each colour type (PNG spec, table 11.1). */
const COLOR_TYPES: ReadonlyMap<number, { samples: number; depths: readonly number[] }> = new Map([
  [0, { samples: 1, depths: [1, 2, 4, 8, 16] }],
  [2, { samples: 3, depths: [8, 16] }],
  [3, { samples: 1, depths: [1, 2, 4, 8] }],
  [4, { samples: 2, depths: [8, 16] }],
  [6, { samples: 4, depths: [8, 16] }],
]);
const PALETTE_COLOR_TYPE = 3;
const SIGNATURE_BYTES = 8;
/** Caps the pixels one decode may allocate for (a 16k x 8k image), so a tiny file cannot. */
const MAX_DECODE_PIXELS = 2 ** 27;

/**
 * Decodes a PNG to 8-bit pixels.
 *
 * @example
 * const { width, height, channels, data } = decodePng(bytes);
 * @throws {PngError} `FT_ERR_PNG_INVALID` when the file is malformed: bad chunks, an IHDR that
 *   breaks the rules, image data that does not inflate or is too short, an unknown row filter,
 *   a palette index without a palette entry.
 * @throws {ForgeToolError} `FT_ERR_IMAGE_PROCESSING` for a valid PNG this decoder does not read
 *   (interlaced) or one too large to decode (more than 2^27 pixels).
 */
export function decodePng(png: Uint8Array): DecodedImage {
  readPngSize(png);
  const chunks = collectChunks(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  const { header } = chunks;
  const samples = assertDecodable(header, chunks.palette);

  const bitsPerPixel = samples * header.bitDepth;
  const stride = Math.ceil((header.width * bitsPerPixel) / 8);
  const filtered = inflateImageData(chunks.imageData, header.height * (stride + 1));
  unfilterRows(filtered, header.height, stride, Math.max(1, bitsPerPixel >> 3));
  return toEightBit(filtered, chunks, stride);
}

/** Walks a chunk stream that readPngSize has already checked; no bounds or CRC checks here. */
function collectChunks(bytes: Buffer): PixelChunks {
  let header: PngHeader | undefined;
  let palette: Buffer | null = null;
  let transparency: Buffer | null = null;
  const imageData: Buffer[] = [];
  for (let offset = SIGNATURE_BYTES; offset < bytes.length;) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') header = readHeader(data);
    else if (type === 'PLTE') palette = data;
    else if (type === 'tRNS') transparency = data;
    else if (type === 'IDAT') imageData.push(data);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  if (header === undefined) throw new PngError('PNG has no IHDR chunk');
  return { header, palette, transparency, imageData };
}

function readHeader(data: Buffer): PngHeader {
  const [compression, filter] = [data[10], data[11]];
  if (compression !== 0 || filter !== 0) {
    throw new PngError(
      `PNG IHDR gives compression method ${compression} and filter method ${filter}; ` +
        'PNG defines only method 0 for both',
    );
  }
  return {
    width: data.readUInt32BE(0),
    height: data.readUInt32BE(4),
    bitDepth: data[8] ?? 0,
    colorType: data[9] ?? 0,
    interlace: data[12] ?? 0,
  };
}

/** Checks the header against what PNG allows and this decoder reads; returns samples/pixel. */
function assertDecodable(header: PngHeader, palette: Buffer | null): number {
  const { width, height, bitDepth, colorType, interlace } = header;
  const rule = COLOR_TYPES.get(colorType);
  if (rule === undefined) {
    throw new PngError(`PNG IHDR gives colour type ${colorType}; PNG defines 0, 2, 3, 4 and 6`);
  }
  if (!rule.depths.includes(bitDepth)) {
    throw new PngError(
      `PNG IHDR gives bit depth ${bitDepth} for colour type ${colorType}; ` +
        `allowed: ${rule.depths.join(', ')}`,
    );
  }
  if (interlace === 1) {
    throw new ForgeToolError(
      'FT_ERR_IMAGE_PROCESSING',
      'interlaced (Adam7) PNGs cannot be decoded for previews; save the image without interlacing',
    );
  }
  if (interlace !== 0) {
    throw new PngError(`PNG IHDR gives interlace method ${interlace}; PNG defines 0 and 1`);
  }
  if (width * height > MAX_DECODE_PIXELS) {
    throw new ForgeToolError(
      'FT_ERR_IMAGE_PROCESSING',
      `a ${width}x${height} PNG is too large to decode for a preview (limit 2^27 pixels)`,
    );
  }
  if (colorType === PALETTE_COLOR_TYPE && palette === null) {
    throw new PngError('PNG with colour type 3 (palette) has no PLTE chunk');
  }
  return rule.samples;
}

function inflateImageData(parts: readonly Buffer[], expectedBytes: number): Buffer {
  let inflated: Buffer;
  try {
    // One byte more than needed tells "too much data" apart from "exactly enough".
    inflated = inflateSync(Buffer.concat(parts), { maxOutputLength: expectedBytes + 1 });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PngError(`PNG image data does not inflate: ${reason}`, { cause: error });
  }
  if (inflated.length < expectedBytes) {
    throw new PngError(
      `PNG image data inflates to ${inflated.length} bytes; the IHDR size needs ${expectedBytes}`,
    );
  }
  return inflated;
}

// In the pixel loops below every index is in range by construction (the inflated size was
// checked against the IHDR), so they index with `!` rather than paying for a fallback per byte.

/**
 * Undoes the filters in place. Row `y` occupies `[y * (stride + 1), (y + 1) * (stride + 1))`:
 * one filter-type byte, then `stride` filtered bytes. Filters refer to the byte `bpp` to the
 * left (a), the byte above (b) and the byte above-left (c), all already unfiltered.
 */
function unfilterRows(rows: Buffer, height: number, stride: number, bpp: number): void {
  for (let y = 0; y < height; y += 1) {
    const start = y * (stride + 1) + 1;
    const above = y === 0 ? -1 : start - stride - 1;
    const filter = rows[start - 1] ?? 0;
    if (filter === 0) continue;
    if (filter === 1) unfilterSub(rows, start, stride, bpp);
    else if (filter === 2) unfilterUp(rows, start, stride, above);
    else if (filter === 3) unfilterAverage(rows, start, stride, bpp, above);
    else if (filter === 4) unfilterPaeth(rows, start, stride, bpp, above);
    else throw new PngError(`PNG row ${y} has filter type ${filter}; PNG defines 0 to 4`);
  }
}

function unfilterSub(rows: Buffer, start: number, stride: number, bpp: number): void {
  const end = start + stride;
  for (let index = start + bpp; index < end; index += 1) {
    rows[index] = (rows[index]! + rows[index - bpp]!) & 0xff;
  }
}

function unfilterUp(rows: Buffer, start: number, stride: number, above: number): void {
  if (above < 0) return;
  for (let index = 0; index < stride; index += 1) {
    rows[start + index] = (rows[start + index]! + rows[above + index]!) & 0xff;
  }
}

function unfilterAverage(
  rows: Buffer,
  start: number,
  stride: number,
  bpp: number,
  above: number,
): void {
  for (let index = 0; index < stride; index += 1) {
    const left = index >= bpp ? rows[start + index - bpp]! : 0;
    const up = above < 0 ? 0 : rows[above + index]!;
    rows[start + index] = (rows[start + index]! + ((left + up) >> 1)) & 0xff;
  }
}

function unfilterPaeth(
  rows: Buffer,
  start: number,
  stride: number,
  bpp: number,
  above: number,
): void {
  for (let index = 0; index < stride; index += 1) {
    const left = index >= bpp ? rows[start + index - bpp]! : 0;
    const up = above < 0 ? 0 : rows[above + index]!;
    const upLeft = above < 0 || index < bpp ? 0 : rows[above + index - bpp]!;
    rows[start + index] = (rows[start + index]! + paethPredictor(left, up, upLeft)) & 0xff;
  }
}

/** The PNG Paeth predictor: whichever of left, up, up-left is closest to left + up - up-left. */
export function paethPredictor(left: number, up: number, upLeft: number): number {
  const toLeft = Math.abs(up - upLeft);
  const toUp = Math.abs(left - upLeft);
  const toUpLeft = Math.abs(left + up - 2 * upLeft);
  if (toLeft <= toUp && toLeft <= toUpLeft) return left;
  return toUp <= toUpLeft ? up : upLeft;
}

function toEightBit(rows: Buffer, chunks: PixelChunks, stride: number): DecodedImage {
  const { header } = chunks;
  if (header.colorType === PALETTE_COLOR_TYPE) return expandPalette(rows, chunks, stride);
  const channels = (COLOR_TYPES.get(header.colorType)?.samples ?? 1) as PixelChannels;
  const { width, height, bitDepth } = header;
  const data = new Uint8Array(width * height * channels);
  const rowSamples = width * channels;
  for (let y = 0; y < height; y += 1) {
    const source = y * (stride + 1) + 1;
    const target = y * rowSamples;
    if (bitDepth === 8) data.set(rows.subarray(source, source + stride), target);
    else if (bitDepth === 16) copyHighBytes(rows, source, data, target, rowSamples);
    else unpackGrey(rows, source, data, target, width, bitDepth);
  }
  return { width, height, channels, data };
}

function copyHighBytes(
  rows: Buffer,
  source: number,
  data: Uint8Array,
  target: number,
  count: number,
): void {
  for (let index = 0; index < count; index += 1) data[target + index] = rows[source + 2 * index]!;
}

/** Sub-byte greyscale: scale each sample to 0-255 (a 1-bit 1 becomes 255). */
function unpackGrey(
  rows: Buffer,
  source: number,
  data: Uint8Array,
  target: number,
  width: number,
  bitDepth: number,
): void {
  const scale = 255 / (2 ** bitDepth - 1);
  for (let x = 0; x < width; x += 1) {
    data[target + x] = Math.round(readPacked(rows, source, x, bitDepth) * scale);
  }
}

/** The `x`th sample of `bitDepth` bits in a row of packed samples, most significant bits first. */
function readPacked(rows: Buffer, source: number, x: number, bitDepth: number): number {
  if (bitDepth === 8) return rows[source + x]!;
  const bit = x * bitDepth;
  const byte = rows[source + (bit >> 3)]!;
  return (byte >> (8 - bitDepth - (bit & 7))) & ((1 << bitDepth) - 1);
}

function expandPalette(rows: Buffer, chunks: PixelChunks, stride: number): DecodedImage {
  const { width, height, bitDepth } = chunks.header;
  const palette = chunks.palette ?? Buffer.alloc(0);
  const alpha = chunks.transparency;
  const channels: PixelChannels = alpha === null ? 3 : 4;
  const entries = Math.floor(palette.length / 3);
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y += 1) {
    const source = y * (stride + 1) + 1;
    for (let x = 0; x < width; x += 1) {
      const entry = readPacked(rows, source, x, bitDepth);
      if (entry >= entries) {
        throw new PngError(
          `PNG pixel (${x}, ${y}) uses palette index ${entry}; the PLTE chunk has ${entries} entries`,
        );
      }
      const target = (y * width + x) * channels;
      data[target] = palette[entry * 3]!;
      data[target + 1] = palette[entry * 3 + 1]!;
      data[target + 2] = palette[entry * 3 + 2]!;
      if (alpha !== null) data[target + 3] = alpha[entry] ?? 255;
    }
  }
  return { width, height, channels, data };
}
