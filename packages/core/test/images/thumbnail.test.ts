import { synthesizeImage } from '@forge-tool/forge-sim';
import { describe, expect, it } from 'vitest';

import { decodePng, type DecodedImage } from '../../src/images/png-decode.js';
import { readPngSize, readPngTextChunks } from '../../src/images/png-text.js';
import {
  encodePng,
  makeThumbnail,
  resizeAreaAverage,
  thumbnailSize,
} from '../../src/images/thumbnail.js';
import { pseudoRandomBytes } from './filtered-png.js';

function image(width: number, height: number, channels: 1 | 2 | 3 | 4, data: number[]) {
  return { width, height, channels, data: Uint8Array.from(data) } satisfies DecodedImage;
}

describe('thumbnailSize', () => {
  it('fits the longest side and keeps the aspect ratio', () => {
    expect(thumbnailSize(1024, 1024, 256)).toEqual({ width: 256, height: 256 });
    expect(thumbnailSize(1024, 768, 256)).toEqual({ width: 256, height: 192 });
    expect(thumbnailSize(832, 1216, 256)).toEqual({ width: 175, height: 256 });
    expect(thumbnailSize(4000, 3, 256)).toEqual({ width: 256, height: 1 });
  });

  it('leaves small images at their size', () => {
    expect(thumbnailSize(200, 100, 256)).toEqual({ width: 200, height: 100 });
  });
});

describe('resizeAreaAverage', () => {
  it('averages whole blocks when the ratio is an integer', () => {
    // 4x2 grey, halved on both axes: each output pixel is the mean of a 2x2 block.
    const source = image(4, 2, 1, [0, 10, 100, 200, 20, 30, 50, 250]);
    const resized = resizeAreaAverage(source, 2, 1);
    expect([...resized.data]).toEqual([15, 150]);
  });

  it('weighs partly covered pixels by the covered fraction', () => {
    // 3 -> 2: output 0 covers source 0 and half of 1; output 1 covers half of 1 and source 2.
    const resized = resizeAreaAverage(image(3, 1, 1, [0, 90, 180]), 2, 1);
    expect([...resized.data]).toEqual([30, 150]);
  });

  it('keeps channels apart', () => {
    const source = image(2, 1, 3, [255, 0, 10, 255, 100, 30]);
    expect([...resizeAreaAverage(source, 1, 1).data]).toEqual([255, 50, 20]);
  });

  it('keeps a flat image flat, with no drift at 255', () => {
    const white = image(
      10,
      7,
      1,
      Array.from({ length: 70 }, () => 255),
    );
    const resized = resizeAreaAverage(white, 3, 2);
    expect([...resized.data]).toEqual([255, 255, 255, 255, 255, 255]);
  });

  it('refuses to enlarge', () => {
    expect(() => resizeAreaAverage(image(2, 2, 1, [1, 2, 3, 4]), 3, 2)).toThrow(
      /cannot area-average 2x2 to 3x2/,
    );
  });
});

describe('encodePng', () => {
  for (const channels of [1, 2, 3, 4] as const) {
    it(`round-trips ${channels}-channel pixels through the decoder`, () => {
      const pixels: DecodedImage = {
        width: 19,
        height: 13,
        channels,
        data: pseudoRandomBytes(19 * 13 * channels, channels),
      };
      const png = encodePng(pixels);
      expect(readPngSize(png)).toEqual({ width: 19, height: 13 });
      const decoded = decodePng(png);
      expect(decoded.channels).toBe(channels);
      expect(Buffer.from(decoded.data)).toEqual(Buffer.from(pixels.data));
    });
  }
});

describe('makeThumbnail', () => {
  it('makes a 256-pixel preview of a 1024x768 image without text chunks', () => {
    const source = synthesizeImage({
      width: 1024,
      height: 768,
      seed: 1,
      prompt: 'a pier',
      denoise: 1,
    });
    const decoded: DecodedImage = { ...source, channels: 3 };
    const thumbnail = makeThumbnail(decoded);
    expect(thumbnail).toMatchObject({ width: 256, height: 192 });
    expect(readPngSize(thumbnail.png)).toEqual({ width: 256, height: 192 });
    expect(readPngTextChunks(thumbnail.png)).toEqual([]);
    // The preview's first pixel is the mean of the source's top-left 4x4 block.
    const block = [0, 1, 2, 3].flatMap((y) =>
      [0, 1, 2, 3].map((x) => source.data[(y * 1024 + x) * 3] ?? 0),
    );
    const mean = Math.round(block.reduce((sum, value) => sum + value, 0) / 16);
    expect(Math.abs((decodePng(thumbnail.png).data[0] ?? -9) - mean)).toBeLessThanOrEqual(1);
  });

  it('honours another side and re-encodes small images at their size', () => {
    const small = image(3, 2, 1, [1, 2, 3, 4, 5, 6]);
    expect(makeThumbnail(small, 64)).toMatchObject({ width: 3, height: 2 });
    expect([...decodePng(makeThumbnail(small, 64).png).data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(makeThumbnail(image(4, 2, 1, [0, 0, 0, 0, 0, 0, 0, 0]), 2)).toMatchObject({
      width: 2,
      height: 1,
    });
  });
});
