import { describe, expect, it } from 'vitest';

import { MAX_SYNTH_SIDE, synthesizeImage } from '../src/image-synth.js';
import type { SynthesisSpec } from '../src/image-synth.js';

const BASE: SynthesisSpec = { width: 96, height: 64, seed: 1234, prompt: 'a cat', denoise: 1 };

function differingPixels(left: Uint8Array, right: Uint8Array): number {
  let count = 0;
  for (let offset = 0; offset < left.length; offset += 3) {
    if (
      left[offset] !== right[offset] ||
      left[offset + 1] !== right[offset + 1] ||
      left[offset + 2] !== right[offset + 2]
    ) {
      count++;
    }
  }
  return count;
}

/** Mean absolute difference between horizontally adjacent bytes: high for noise, low for blobs. */
function roughness(data: Uint8Array): number {
  let total = 0;
  for (let offset = 3; offset < data.length; offset++) {
    total += Math.abs((data[offset] ?? 0) - (data[offset - 3] ?? 0));
  }
  return total / (data.length - 3);
}

describe('synthesizeImage', () => {
  it('returns an RGB raster of the requested size', () => {
    const image = synthesizeImage({ ...BASE, width: 72, height: 40 });
    expect(image.width).toBe(72);
    expect(image.height).toBe(40);
    expect(image.data).toBeInstanceOf(Uint8Array);
    expect(image.data.length).toBe(72 * 40 * 3);
  });

  it('is deterministic for the same inputs', () => {
    const first = synthesizeImage(BASE);
    const second = synthesizeImage(BASE);
    expect(Buffer.from(first.data).equals(Buffer.from(second.data))).toBe(true);
  });

  it('changes most pixels when the seed changes', () => {
    const first = synthesizeImage(BASE);
    const other = synthesizeImage({ ...BASE, seed: 1235 });
    expect(differingPixels(first.data, other.data)).toBeGreaterThan((96 * 64) / 2);
  });

  it('changes most pixels when the prompt changes', () => {
    const first = synthesizeImage(BASE);
    const other = synthesizeImage({ ...BASE, prompt: 'a dog' });
    expect(differingPixels(first.data, other.data)).toBeGreaterThan((96 * 64) / 2);
  });

  it('is smooth when finished and noisier the less it is denoised', () => {
    const finished = roughness(synthesizeImage(BASE).data);
    const halfway = roughness(synthesizeImage({ ...BASE, denoise: 0.5 }).data);
    const start = roughness(synthesizeImage({ ...BASE, denoise: 0 }).data);
    expect(finished).toBeLessThan(halfway);
    expect(halfway).toBeLessThan(start);
    expect(start).toBeGreaterThan(50);
  });

  it('fades the same noise into the same image as denoising progresses', () => {
    const partial = synthesizeImage({ ...BASE, denoise: 0.9 });
    const finished = synthesizeImage(BASE);
    const again = synthesizeImage({ ...BASE, denoise: 0.9 });
    expect(Buffer.from(partial.data).equals(Buffer.from(again.data))).toBe(true);
    let distance = 0;
    for (let index = 0; index < partial.data.length; index++) {
      distance += Math.abs((partial.data[index] ?? 0) - (finished.data[index] ?? 0));
    }
    expect(distance / partial.data.length).toBeLessThan(20);
  });

  it('rejects sizes and denoise values out of range', () => {
    expect(() => synthesizeImage({ ...BASE, width: 0 })).toThrow(/width must be an integer/);
    expect(() => synthesizeImage({ ...BASE, height: 1.5 })).toThrow(/height must be an integer/);
    expect(() => synthesizeImage({ ...BASE, width: MAX_SYNTH_SIDE + 1 })).toThrow(RangeError);
    expect(() => synthesizeImage({ ...BASE, denoise: 1.2 })).toThrow(
      /denoise must be between 0 and 1/,
    );
    expect(() => synthesizeImage({ ...BASE, denoise: Number.NaN })).toThrow(/denoise/);
    expect(() => synthesizeImage({ ...BASE, seed: Infinity })).toThrow(/seed must be a finite/);
  });
});
