/**
 * A test PNG encoder, written apart from the decoder under test: it takes packed scanlines and
 * the filter type to apply to each row, so a test can exercise every filter, colour type and
 * bit depth the decoder claims to read.
 */
import { Buffer } from 'node:buffer';
import { deflateSync } from 'node:zlib';

import { PNG_SIGNATURE, pngChunk } from './png-fixtures.js';

/** What {@link encodeFilteredPng} needs. */
export interface FilteredPngSpec {
  width: number;
  height: number;
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  /** Packed scanlines without filter bytes, `height * stride` bytes. */
  scanlines: Uint8Array;
  /** Filter type per row; rows past the end reuse the last one. */
  filters: readonly number[];
  palette?: Uint8Array | undefined;
  transparency?: Uint8Array;
  interlace?: number;
  /** Replaces the compressed image data (to test broken streams). */
  imageData?: Uint8Array;
}

const SAMPLES: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Bytes per scanline of a spec. */
export function strideOf(spec: Pick<FilteredPngSpec, 'width' | 'colorType' | 'bitDepth'>): number {
  return Math.ceil((spec.width * (SAMPLES[spec.colorType] ?? 1) * spec.bitDepth) / 8);
}

/** Encodes the spec: IHDR, PLTE and tRNS when given, one IDAT, IEND. */
export function encodeFilteredPng(spec: FilteredPngSpec): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(spec.width, 0);
  header.writeUInt32BE(spec.height, 4);
  header[8] = spec.bitDepth;
  header[9] = spec.colorType;
  header[12] = spec.interlace ?? 0;
  const imageData = spec.imageData ?? deflateSync(filterScanlines(spec));
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', header),
    ...(spec.palette === undefined ? [] : [pngChunk('PLTE', spec.palette)]),
    ...(spec.transparency === undefined ? [] : [pngChunk('tRNS', spec.transparency)]),
    pngChunk('IDAT', imageData),
    pngChunk('IEND'),
  ]);
}

/** Applies each row's filter, straight from the formulas of the PNG specification. */
export function filterScanlines(spec: FilteredPngSpec): Buffer {
  const stride = strideOf(spec);
  const bpp = Math.max(1, ((SAMPLES[spec.colorType] ?? 1) * spec.bitDepth) / 8);
  const out = Buffer.alloc(spec.height * (stride + 1));
  for (let y = 0; y < spec.height; y += 1) {
    const filter = spec.filters[Math.min(y, spec.filters.length - 1)] ?? 0;
    out[y * (stride + 1)] = filter;
    for (let x = 0; x < stride; x += 1) {
      const at = (row: number, column: number): number =>
        row < 0 || column < 0 ? 0 : (spec.scanlines[row * stride + column] ?? 0);
      const [a, b, c] = [at(y, x - bpp), at(y - 1, x), at(y - 1, x - bpp)];
      out[y * (stride + 1) + 1 + x] = (at(y, x) - predictor(filter, a, b, c)) & 0xff;
    }
  }
  return out;
}

function predictor(filter: number, a: number, b: number, c: number): number {
  if (filter === 1) return a;
  if (filter === 2) return b;
  if (filter === 3) return Math.floor((a + b) / 2);
  if (filter === 4) {
    const p = a + b - c;
    const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
    if (pa <= pb && pa <= pc) return a;
    return pb <= pc ? b : c;
  }
  return 0;
}

/** Deterministic pseudo-random bytes (a linear congruential generator). */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0;
  for (let index = 0; index < length; index += 1) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    bytes[index] = state >>> 24;
  }
  return bytes;
}
