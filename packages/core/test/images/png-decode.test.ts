import { encodePng as encodeSimPng, synthesizeImage } from '@forge-tool/forge-sim';
import { describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';

import { isForgeToolError } from '../../src/errors.js';
import { decodePng, paethPredictor } from '../../src/images/png-decode.js';
import {
  encodeFilteredPng,
  pseudoRandomBytes,
  strideOf,
  type FilteredPngSpec,
} from './filtered-png.js';
import { pngChunk } from './png-fixtures.js';

const EVERY_FILTER = [0, 1, 2, 3, 4];

function spec(overrides: Partial<FilteredPngSpec> & Pick<FilteredPngSpec, 'colorType'>) {
  const base = { width: 7, height: 6, bitDepth: 8 as const, filters: EVERY_FILTER, ...overrides };
  const scanlines = overrides.scanlines ?? pseudoRandomBytes(base.height * strideOf(base), 42);
  return { ...base, scanlines };
}

function expectCode(action: () => unknown, code: string, message: RegExp): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(isForgeToolError(thrown), String(thrown)).toBe(true);
  expect((thrown as Error & { code: string }).code).toBe(code);
  expect((thrown as Error).message).toMatch(message);
}

describe('decodePng: 8-bit colour types and every filter', () => {
  const cases = [
    { colorType: 0, channels: 1 },
    { colorType: 2, channels: 3 },
    { colorType: 4, channels: 2 },
    { colorType: 6, channels: 4 },
  ] as const;

  for (const { colorType, channels } of cases) {
    for (const filter of EVERY_FILTER) {
      it(`colour type ${colorType}, every row filtered with type ${filter}`, () => {
        const input = spec({ colorType, filters: [filter] });
        const decoded = decodePng(encodeFilteredPng(input));
        expect(decoded).toMatchObject({ width: 7, height: 6, channels });
        expect(Buffer.from(decoded.data)).toEqual(Buffer.from(input.scanlines));
      });
    }

    it(`colour type ${colorType}, a different filter on each row`, () => {
      const input = spec({ colorType, height: 11, filters: [4, 3, 2, 1, 0, 4, 2, 3, 1, 0, 4] });
      expect(Buffer.from(decodePng(encodeFilteredPng(input)).data)).toEqual(
        Buffer.from(input.scanlines),
      );
    });
  }

  it('decodes a simulator image (Sub filter, written by another encoder) pixel for pixel', () => {
    const image = synthesizeImage({ width: 96, height: 64, seed: 5, prompt: 'dunes', denoise: 1 });
    const decoded = decodePng(encodeSimPng(image, [['parameters', 'dunes']]));
    expect(decoded).toMatchObject({ width: 96, height: 64, channels: 3 });
    expect(Buffer.from(decoded.data)).toEqual(Buffer.from(image.data));
  });
});

describe('decodePng: other bit depths and palettes', () => {
  it('cuts 16-bit samples to their high byte', () => {
    const input = spec({ colorType: 2, bitDepth: 16 });
    const decoded = decodePng(encodeFilteredPng(input));
    expect(decoded.channels).toBe(3);
    const highBytes = input.scanlines.filter((_, index) => index % 2 === 0);
    expect(Buffer.from(decoded.data)).toEqual(Buffer.from(highBytes));
  });

  for (const bitDepth of [1, 2, 4] as const) {
    it(`scales ${bitDepth}-bit greyscale to 0-255`, () => {
      const max = 2 ** bitDepth - 1;
      const values = Array.from({ length: 5 * 3 }, (_, index) => index % (max + 1));
      const input = spec({
        colorType: 0,
        bitDepth,
        width: 5,
        height: 3,
        scanlines: packRows(values, 5, bitDepth),
      });
      const decoded = decodePng(encodeFilteredPng(input));
      expect([...decoded.data]).toEqual(values.map((value) => Math.round((value * 255) / max)));
    });
  }

  it('looks palette indexes up, with tRNS alpha as a fourth channel', () => {
    const palette = Uint8Array.from([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    const indexes = [0, 1, 2, 2, 1, 0];
    const input = spec({
      colorType: 3,
      width: 3,
      height: 2,
      scanlines: Uint8Array.from(indexes),
      palette,
      transparency: Uint8Array.from([0, 128]),
    });
    const decoded = decodePng(encodeFilteredPng(input));
    expect(decoded.channels).toBe(4);
    const alpha = [0, 128, 255];
    const expected = indexes.flatMap((entry) => [
      ...palette.subarray(entry * 3, entry * 3 + 3),
      alpha[entry],
    ]);
    expect([...decoded.data]).toEqual(expected);
  });

  it('reads packed 2-bit palette indexes as RGB without tRNS', () => {
    const palette = Uint8Array.from([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]);
    const indexes = [3, 2, 1, 0, 1];
    const input = spec({
      colorType: 3,
      bitDepth: 2,
      width: 5,
      height: 1,
      scanlines: packRows(indexes, 5, 2),
      palette,
    });
    const decoded = decodePng(encodeFilteredPng(input));
    expect(decoded.channels).toBe(3);
    expect([...decoded.data]).toEqual(
      indexes.flatMap((entry) => [...palette.subarray(entry * 3, entry * 3 + 3)]),
    );
  });
});

describe('decodePng: what it refuses', () => {
  it('refuses interlaced images with a clear processing error', () => {
    const png = encodeFilteredPng({ ...spec({ colorType: 2 }), interlace: 1 });
    expectCode(() => decodePng(png), 'FT_ERR_IMAGE_PROCESSING', /interlaced \(Adam7\)/);
  });

  it('rejects an unknown filter type, naming the row', () => {
    const png = encodeFilteredPng(spec({ colorType: 2, filters: [0, 0, 5] }));
    expectCode(() => decodePng(png), 'FT_ERR_PNG_INVALID', /row 2 has filter type 5/);
  });

  it('rejects image data that is too short or not zlib', () => {
    const short = encodeFilteredPng({
      ...spec({ colorType: 2 }),
      imageData: deflateSync(Buffer.alloc(10)),
    });
    expectCode(() => decodePng(short), 'FT_ERR_PNG_INVALID', /inflates to 10 bytes; .* needs 132/);
    const garbage = encodeFilteredPng({
      ...spec({ colorType: 2 }),
      imageData: Buffer.from('nope'),
    });
    expectCode(() => decodePng(garbage), 'FT_ERR_PNG_INVALID', /does not inflate/);
  });

  it('rejects palette trouble and impossible headers', () => {
    const palette = Uint8Array.from([1, 2, 3]);
    const outOfRange = spec({
      colorType: 3,
      width: 2,
      height: 1,
      scanlines: Uint8Array.of(0, 1),
      palette,
    });
    expectCode(
      () => decodePng(encodeFilteredPng(outOfRange)),
      'FT_ERR_PNG_INVALID',
      /pixel \(1, 0\) uses palette index 1; the PLTE chunk has 1 entries/,
    );
    const noPalette = { ...outOfRange, palette: undefined };
    expectCode(() => decodePng(encodeFilteredPng(noPalette)), 'FT_ERR_PNG_INVALID', /no PLTE/);
    const sixteenBitPalette = { ...outOfRange, bitDepth: 16 as const };
    expectCode(
      () => decodePng(encodeFilteredPng(sixteenBitPalette)),
      'FT_ERR_PNG_INVALID',
      /bit depth 16 for colour type 3; allowed: 1, 2, 4, 8/,
    );
    const colorType5 = { ...spec({ colorType: 0 }), colorType: 5 as unknown as 0 };
    expectCode(
      () => decodePng(encodeFilteredPng(colorType5)),
      'FT_ERR_PNG_INVALID',
      /colour type 5/,
    );
  });

  it('checks the chunk stream first (a CRC mismatch)', () => {
    const png = encodeFilteredPng(spec({ colorType: 2 }));
    png[png.length - 20] = (png[png.length - 20] ?? 0) ^ 0xff;
    expectCode(() => decodePng(png), 'FT_ERR_PNG_INVALID', /fails its CRC check/);
  });

  it('refuses a huge declared size before allocating', () => {
    const header = Buffer.alloc(13);
    header.writeUInt32BE(100_000, 0);
    header.writeUInt32BE(100_000, 4);
    header[8] = 8;
    header[9] = 2;
    const png = Buffer.concat([
      Buffer.from('89504e470d0a1a0a', 'hex'),
      pngChunk('IHDR', header),
      pngChunk('IDAT', deflateSync(Buffer.alloc(1))),
      pngChunk('IEND'),
    ]);
    expectCode(() => decodePng(png), 'FT_ERR_IMAGE_PROCESSING', /100000x100000 PNG is too large/);
  });
});

describe('paethPredictor', () => {
  it('picks the neighbour closest to left + up - upLeft', () => {
    expect(paethPredictor(10, 20, 10)).toBe(20);
    expect(paethPredictor(20, 10, 10)).toBe(20);
    expect(paethPredictor(10, 10, 10)).toBe(10);
    expect(paethPredictor(0, 100, 100)).toBe(0);
    expect(paethPredictor(50, 60, 200)).toBe(50);
    expect(paethPredictor(3, 7, 5)).toBe(5);
  });
});

/** Packs sub-byte samples row by row, most significant bits first, rows padded to a byte. */
function packRows(values: readonly number[], width: number, bitDepth: number): Uint8Array {
  const stride = Math.ceil((width * bitDepth) / 8);
  const rows = values.length / width;
  const out = new Uint8Array(stride * rows);
  values.forEach((value, index) => {
    const [row, column] = [Math.floor(index / width), index % width];
    const bit = column * bitDepth;
    out[row * stride + (bit >> 3)]! |= value << (8 - bitDepth - (bit % 8));
  });
  return out;
}
