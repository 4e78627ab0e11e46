/**
 * Small previews of result images: an area-average downscale and a compact PNG encoder.
 *
 * Area averaging gives every output pixel the mean of the source area it covers, counting the
 * partly covered source pixels at the edges by their covered fraction. It is done in two
 * separable passes (columns, then rows), so each source sample is touched about twice whatever
 * the ratio. Channels are averaged independently, alpha included (not premultiplied): fine for
 * Forge's opaque results, slightly fringed on transparent edges.
 */
import { Buffer } from 'node:buffer';
import { deflateSync } from 'node:zlib';

import { paethPredictor, type DecodedImage, type PixelChannels } from './png-decode.js';
import { PNG_SIGNATURE, encodePngChunk } from './png-text.js';

/** Longest side of a preview unless told otherwise, in pixels. */
export const DEFAULT_THUMBNAIL_SIDE_PX = 256;

/** A preview image: PNG bytes and its size. */
export interface Thumbnail {
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
}

/** How much of which source pixels make up each output pixel along one axis. */
interface AxisWeights {
  /** First source index per output index. */
  readonly first: Int32Array;
  /** Number of source indexes per output index. */
  readonly count: Int32Array;
  /** Weights, `maxCount` per output index; each output's weights sum to 1. */
  readonly weights: Float32Array;
  readonly maxCount: number;
}

const COLOR_TYPE_BY_CHANNELS: Readonly<Record<PixelChannels, number>> = { 1: 0, 2: 4, 3: 2, 4: 6 };
const FILTER_TYPES = 5;

/**
 * The size that fits `width` x `height` within `maxSidePx` on its longest side, keeping the
 * aspect ratio (each side at least 1 pixel). Images already small enough keep their size.
 */
export function thumbnailSize(
  width: number,
  height: number,
  maxSidePx: number,
): { width: number; height: number } {
  const longest = Math.max(width, height);
  if (longest <= maxSidePx) return { width, height };
  const scale = maxSidePx / longest;
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

/**
 * Makes a preview whose longest side is at most `maxSidePx`, encoded as a PNG without text
 * chunks. An image already small enough is re-encoded at its own size.
 *
 * @example
 * const preview = makeThumbnail(decodePng(bytes)); // 1024x768 in, 256x192 out
 */
export function makeThumbnail(
  image: DecodedImage,
  maxSidePx: number = DEFAULT_THUMBNAIL_SIDE_PX,
): Thumbnail {
  const size = thumbnailSize(image.width, image.height, maxSidePx);
  const resized = resizeAreaAverage(image, size.width, size.height);
  return { png: encodePng(resized), width: resized.width, height: resized.height };
}

/**
 * Scales an image down to `width` x `height` by area averaging; the same size returns the
 * image itself.
 *
 * @throws RangeError when the target is larger than the source or not a positive integer size
 */
export function resizeAreaAverage(
  image: DecodedImage,
  width: number,
  height: number,
): DecodedImage {
  if (width === image.width && height === image.height) return image;
  assertDownscale(image, width, height);

  const columns = axisWeights(image.width, width);
  const rows = axisWeights(image.height, height);
  const narrowed = resizeColumns(image, width, columns);
  const data = resizeRows(narrowed, width * image.channels, height, rows);
  return { width, height, channels: image.channels, data };
}

function assertDownscale(image: DecodedImage, width: number, height: number): void {
  const valid = [width, height].every((side) => Number.isInteger(side) && side >= 1);
  if (!valid || width > image.width || height > image.height) {
    throw new RangeError(
      `cannot area-average ${image.width}x${image.height} to ${width}x${height}: ` +
        'the target must be a positive size no larger than the source',
    );
  }
}

function axisWeights(sourceLength: number, targetLength: number): AxisWeights {
  const ratio = sourceLength / targetLength;
  const maxCount = Math.ceil(ratio) + 1;
  const first = new Int32Array(targetLength);
  const count = new Int32Array(targetLength);
  const weights = new Float32Array(targetLength * maxCount);
  for (let target = 0; target < targetLength; target += 1) {
    const start = target * ratio;
    const end = Math.min(sourceLength, (target + 1) * ratio);
    first[target] = Math.floor(start);
    let used = 0;
    for (let source = Math.floor(start); source < end; source += 1) {
      const covered = Math.min(source + 1, end) - Math.max(source, start);
      // Float error can leave a sliver of a pixel past the edge; it carries no weight.
      if (covered <= 1e-9) continue;
      weights[target * maxCount + used] = covered / ratio;
      used += 1;
    }
    count[target] = used;
  }
  return { first, count, weights, maxCount };
}

/** First pass: every row narrowed to the target width; floats, so nothing is rounded twice. */
function resizeColumns(image: DecodedImage, width: number, columns: AxisWeights): Float32Array {
  const { channels, data } = image;
  const { first, count, weights, maxCount } = columns;
  const sourceRow = image.width * channels;
  const targetRow = width * channels;
  const out = new Float32Array(targetRow * image.height);
  for (let y = 0; y < image.height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const taps = count[x]!;
      const base = x * maxCount;
      const firstSample = y * sourceRow + first[x]! * channels;
      const target = y * targetRow + x * channels;
      for (let channel = 0; channel < channels; channel += 1) {
        let sum = 0;
        for (let tap = 0; tap < taps; tap += 1) {
          sum += data[firstSample + tap * channels + channel]! * weights[base + tap]!;
        }
        out[target + channel] = sum;
      }
    }
  }
  return out;
}

/** Second pass: rows merged to the target height, rounded to bytes. */
function resizeRows(
  narrowed: Float32Array,
  rowLength: number,
  height: number,
  rows: AxisWeights,
): Uint8Array {
  const { first, count, weights, maxCount } = rows;
  const out = new Uint8Array(rowLength * height);
  const sums = new Float32Array(rowLength);
  for (let y = 0; y < height; y += 1) {
    sums.fill(0);
    const taps = count[y]!;
    for (let tap = 0; tap < taps; tap += 1) {
      const weight = weights[y * maxCount + tap]!;
      const source = (first[y]! + tap) * rowLength;
      for (let index = 0; index < rowLength; index += 1) {
        sums[index] = sums[index]! + narrowed[source + index]! * weight;
      }
    }
    const target = y * rowLength;
    // Float error can push a mean of 255s just past 255, which a Uint8Array would wrap to 0.
    for (let index = 0; index < rowLength; index += 1) {
      out[target + index] = Math.min(255, Math.round(sums[index]!));
    }
  }
  return out;
}

/**
 * Encodes 8-bit pixels as a PNG (IHDR, one IDAT, IEND). Each row gets the filter whose output
 * has the smallest sum of absolute values, the heuristic libpng uses, which suits photographs.
 */
export function encodePng(image: DecodedImage): Buffer {
  const { width, height, channels, data } = image;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = COLOR_TYPE_BY_CHANNELS[channels];

  const filtered = filterRows(data, width * channels, height, channels);
  return Buffer.concat([
    PNG_SIGNATURE,
    encodePngChunk('IHDR', header),
    encodePngChunk('IDAT', deflateSync(filtered)),
    encodePngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function filterRows(data: Uint8Array, stride: number, height: number, bpp: number): Buffer {
  const out = Buffer.alloc((stride + 1) * height);
  const candidates = Array.from({ length: FILTER_TYPES }, () => new Uint8Array(stride));
  for (let y = 0; y < height; y += 1) {
    const row = y * stride;
    const costs = [
      filterNone(data, row, stride, candidates[0]!),
      filterSub(data, row, stride, bpp, candidates[1]!),
      y === 0 ? Infinity : filterUp(data, row, stride, candidates[2]!),
      filterAverage(data, row, y === 0 ? -1 : row - stride, stride, bpp, candidates[3]!),
      y === 0 ? Infinity : filterPaeth(data, row, stride, bpp, candidates[4]!),
    ];
    const best = costs.indexOf(Math.min(...costs));
    out[y * (stride + 1)] = best;
    out.set(candidates[best]!, y * (stride + 1) + 1);
  }
  return out;
}

// One loop per filter type, so the per-byte work has no branch on the type. Each returns the
// row's cost: the sum of the filtered bytes read as signed values.

function filterNone(data: Uint8Array, row: number, stride: number, target: Uint8Array): number {
  let cost = 0;
  for (let index = 0; index < stride; index += 1) {
    const value = data[row + index]!;
    target[index] = value;
    cost += value < 128 ? value : 256 - value;
  }
  return cost;
}

function filterSub(
  data: Uint8Array,
  row: number,
  stride: number,
  bpp: number,
  target: Uint8Array,
): number {
  let cost = 0;
  for (let index = 0; index < stride; index += 1) {
    const left = index >= bpp ? data[row + index - bpp]! : 0;
    const value = (data[row + index]! - left) & 0xff;
    target[index] = value;
    cost += value < 128 ? value : 256 - value;
  }
  return cost;
}

function filterUp(data: Uint8Array, row: number, stride: number, target: Uint8Array): number {
  let cost = 0;
  for (let index = 0; index < stride; index += 1) {
    const value = (data[row + index]! - data[row - stride + index]!) & 0xff;
    target[index] = value;
    cost += value < 128 ? value : 256 - value;
  }
  return cost;
}

function filterAverage(
  data: Uint8Array,
  row: number,
  above: number,
  stride: number,
  bpp: number,
  target: Uint8Array,
): number {
  let cost = 0;
  for (let index = 0; index < stride; index += 1) {
    const left = index >= bpp ? data[row + index - bpp]! : 0;
    const up = above < 0 ? 0 : data[above + index]!;
    const value = (data[row + index]! - ((left + up) >> 1)) & 0xff;
    target[index] = value;
    cost += value < 128 ? value : 256 - value;
  }
  return cost;
}

/** Paeth on a row that has a row above (the first row's Paeth equals Sub). */
function filterPaeth(
  data: Uint8Array,
  row: number,
  stride: number,
  bpp: number,
  target: Uint8Array,
): number {
  let cost = 0;
  const above = row - stride;
  for (let index = 0; index < stride; index += 1) {
    const hasLeft = index >= bpp;
    const left = hasLeft ? data[row + index - bpp]! : 0;
    const upLeft = hasLeft ? data[above + index - bpp]! : 0;
    const predicted = paethPredictor(left, data[above + index]!, upLeft);
    const value = (data[row + index]! - predicted) & 0xff;
    target[index] = value;
    cost += value < 128 ? value : 256 - value;
  }
  return cost;
}
