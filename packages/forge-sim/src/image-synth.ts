/**
 * Synthetic "generated" images: a few soft colour blobs over a diagonal gradient, chosen by a
 * small PRNG seeded from the seed and the prompt, blended with seeded noise while the image is
 * not fully denoised. Deterministic, visibly different per seed, and cheap enough to render at
 * 1024x1024 for every live preview.
 */
import type { RgbImage } from './png.js';

/** What decides a synthetic image. */
export interface SynthesisSpec {
  /** Width in pixels (1-16384). */
  readonly width: number;
  /** Height in pixels (1-16384). */
  readonly height: number;
  /** The image's seed; only its low 32 bits matter. */
  readonly seed: number;
  /** The prompt; it changes the palette and the layout. */
  readonly prompt: string;
  /** How finished the image is, 0 (pure noise) to 1 (no noise). */
  readonly denoise: number;
}

/** The largest width or height {@link synthesizeImage} accepts. */
export const MAX_SYNTH_SIDE = 16_384;

const MIN_BLOBS = 4;
const EXTRA_BLOBS = 3;
// Blob weights below this change no pixel by more than half a level, so they are skipped.
const NEGLIGIBLE_WEIGHT = 1 / 512;

/** One soft blob: a separable Gaussian with a colour and an opacity. */
interface Blob {
  readonly colour: readonly [number, number, number];
  readonly columnWeights: Float32Array;
  readonly rowWeights: Float32Array;
}

/**
 * Renders the synthetic image for a seed and prompt at a stage of denoising.
 *
 * @throws RangeError when the size is not an integer in 1-16384 or `denoise` is not in [0, 1]
 * @example
 * const image = synthesizeImage({ width: 512, height: 512, seed: 1234, prompt: 'a cat', denoise: 1 });
 */
export function synthesizeImage(spec: SynthesisSpec): RgbImage {
  assertSpec(spec);
  const { width, height } = spec;
  const random = mulberry32((spec.seed >>> 0) ^ fnv1a(spec.prompt));
  const data = new Uint8ClampedArray(width * height * 3);

  paintGradient(data, width, height, random);
  const blobCount = MIN_BLOBS + Math.floor(random() * EXTRA_BLOBS);
  for (let index = 0; index < blobCount; index++) {
    paintBlob(data, width, createBlob(width, height, random));
  }
  addGrain(data, spec.seed);
  if (spec.denoise < 1) addNoise(data, spec.seed, 1 - spec.denoise);

  return { width, height, data: new Uint8Array(data.buffer) };
}

function assertSpec(spec: SynthesisSpec): void {
  for (const side of ['width', 'height'] as const) {
    const value = spec[side];
    if (!Number.isInteger(value) || value < 1 || value > MAX_SYNTH_SIDE) {
      throw new RangeError(
        `synthesizeImage: ${side} must be an integer from 1 to ${MAX_SYNTH_SIDE}, got ${value}`,
      );
    }
  }
  if (!(spec.denoise >= 0 && spec.denoise <= 1)) {
    throw new RangeError(`synthesizeImage: denoise must be between 0 and 1, got ${spec.denoise}`);
  }
  if (!Number.isFinite(spec.seed)) {
    throw new RangeError(`synthesizeImage: seed must be a finite number, got ${spec.seed}`);
  }
}

/** 32-bit FNV-1a over UTF-16 code units: a cheap, stable prompt fingerprint. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  }
  return hash >>> 0;
}

/** Mulberry32: a tiny, fast PRNG with a 32-bit state, returning numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function randomColour(random: () => number): [number, number, number] {
  return [random() * 255, random() * 255, random() * 255];
}

/** Fills the raster with a top-left to bottom-right blend of two random colours. */
function paintGradient(
  data: Uint8ClampedArray,
  width: number,
  height: number,
  random: () => number,
): void {
  const start = randomColour(random);
  const end = randomColour(random);
  const span = Math.max(1, width + height - 2);
  for (let y = 0; y < height; y++) {
    let offset = y * width * 3;
    for (let x = 0; x < width; x++) {
      const t = (x + y) / span;
      data[offset++] = start[0] + (end[0] - start[0]) * t;
      data[offset++] = start[1] + (end[1] - start[1]) * t;
      data[offset++] = start[2] + (end[2] - start[2]) * t;
    }
  }
}

function createBlob(width: number, height: number, random: () => number): Blob {
  const centreX = random() * width;
  const centreY = random() * height;
  const radius = (0.12 + random() * 0.3) * Math.min(width, height) + 1;
  const opacity = 0.55 + random() * 0.45;
  return {
    colour: randomColour(random),
    columnWeights: gaussianTable(width, centreX, radius, 1),
    rowWeights: gaussianTable(height, centreY, radius, opacity),
  };
}

/** exp(-((i - centre) / radius)^2) * scale for every index: one axis of a separable Gaussian. */
function gaussianTable(
  length: number,
  centre: number,
  radius: number,
  scale: number,
): Float32Array {
  const table = new Float32Array(length);
  for (let index = 0; index < length; index++) {
    const distance = (index - centre) / radius;
    table[index] = Math.exp(-distance * distance) * scale;
  }
  return table;
}

/** Alpha-blends one blob over the raster, skipping rows and pixels it barely touches. */
function paintBlob(data: Uint8ClampedArray, width: number, blob: Blob): void {
  const [red, green, blue] = blob.colour;
  const { columnWeights, rowWeights } = blob;
  for (let y = 0; y < rowWeights.length; y++) {
    const rowWeight = rowWeights[y] ?? 0;
    if (rowWeight < NEGLIGIBLE_WEIGHT) continue;
    let offset = y * width * 3;
    for (let x = 0; x < width; x++, offset += 3) {
      const alpha = rowWeight * (columnWeights[x] ?? 0);
      if (alpha < NEGLIGIBLE_WEIGHT) continue;
      const r = data[offset] ?? 0;
      const g = data[offset + 1] ?? 0;
      const b = data[offset + 2] ?? 0;
      data[offset] = r + (red - r) * alpha;
      data[offset + 1] = g + (green - g) * alpha;
      data[offset + 2] = b + (blue - b) * alpha;
    }
  }
}

/** How far grain moves a channel, in levels either way. */
const GRAIN_LEVELS = 6;

/**
 * Adds a faint seeded grain. Generated images carry fine texture everywhere, which is what makes
 * their PNGs large (1.5-2 MB at 1024x1024); smooth blobs alone compress to a fraction of that,
 * and benchmarks and tests would then move unrealistically small bodies.
 */
function addGrain(data: Uint8ClampedArray, seed: number): void {
  let state = (seed ^ 0x85ebca6b) >>> 0 || 1;
  const span = GRAIN_LEVELS * 2 + 1;
  for (let offset = 0; offset < data.length; offset++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    data[offset] = (data[offset] ?? 0) + ((state >>> 0) % span) - GRAIN_LEVELS;
  }
}

/**
 * Blends seeded noise into the raster; `amount` is the share of noise (1 - denoise). The noise
 * depends on the seed only, so the same seed fades from the same noise at every preview.
 */
function addNoise(data: Uint8ClampedArray, seed: number, amount: number): void {
  // 8-bit fixed-point weights keep the per-byte work to integer multiplies and a shift.
  const noiseWeight = Math.round(amount * 256);
  const imageWeight = 256 - noiseWeight;
  let state = (seed ^ 0x9e3779b9) >>> 0 || 1;
  for (let offset = 0; offset + 2 < data.length; offset += 3) {
    // xorshift32: one 32-bit draw gives the three noise bytes of a pixel.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const bits = state >>> 0;
    data[offset] = ((data[offset] ?? 0) * imageWeight + (bits & 0xff) * noiseWeight) >> 8;
    data[offset + 1] =
      ((data[offset + 1] ?? 0) * imageWeight + ((bits >>> 8) & 0xff) * noiseWeight) >> 8;
    data[offset + 2] =
      ((data[offset + 2] ?? 0) * imageWeight + ((bits >>> 16) & 0xff) * noiseWeight) >> 8;
  }
}
