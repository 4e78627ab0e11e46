import { crc32 as nativeCrc32, deflateSync, inflateSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import type { RgbImage } from '../src/png.js';
import {
  PNG_SIGNATURE,
  crc32,
  decodePngSize,
  encodePng,
  readChunks,
  readPngText,
} from '../src/png.js';

function gradient(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let index = 0; index < data.length; index++) data[index] = (index * 7) & 0xff;
  return { width, height, data };
}

/** Builds a raw chunk by hand, independently of the encoder. */
function handChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(nativeCrc32(body));
  return Buffer.concat([length, body, crc]);
}

function pngWithChunks(...chunks: Buffer[]): Buffer {
  const png = encodePng(gradient(2, 2));
  const [, ...rest] = readChunks(png);
  const ihdr = png.subarray(8, 8 + 25);
  return Buffer.concat([
    PNG_SIGNATURE,
    ihdr,
    ...chunks,
    ...rest.slice(-2).map((c) => handChunk(c.type, c.data)),
  ]);
}

describe('crc32', () => {
  it('matches the standard check value and node:zlib', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
    const sample = Buffer.from('The quick brown fox jumps over the lazy dog');
    expect(crc32(sample)).toBe(0x414fa339);
    expect(crc32(sample)).toBe(nativeCrc32(sample));
  });

  it('continues from a previous value', () => {
    const whole = Buffer.from('hello world');
    expect(crc32(whole.subarray(6), crc32(whole.subarray(0, 6)))).toBe(crc32(whole));
  });
});

describe('encodePng', () => {
  it('writes signature, IHDR, text, IDAT, IEND with valid CRCs', () => {
    const png = encodePng(gradient(4, 3), [['parameters', 'a cat']]);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const chunks = readChunks(png);
    expect(chunks.map((chunk) => chunk.type)).toEqual(['IHDR', 'tEXt', 'IDAT', 'IEND']);

    let offset = 8;
    for (const chunk of chunks) {
      const stored = png.readUInt32BE(offset + 8 + chunk.data.length);
      expect(stored).toBe(nativeCrc32(png.subarray(offset + 4, offset + 8 + chunk.data.length)));
      offset += 12 + chunk.data.length;
    }
    expect(offset).toBe(png.length);
  });

  it('stores filtered scanlines that inflate to width*height*3 + height bytes', () => {
    const image = gradient(33, 17);
    const png = encodePng(image);
    const idat = Buffer.concat(
      readChunks(png)
        .filter((c) => c.type === 'IDAT')
        .map((c) => c.data),
    );
    const raw = inflateSync(idat);
    expect(raw.length).toBe(33 * 17 * 3 + 17);

    // Undo the Sub filter and compare with the source pixels.
    const stride = 33 * 3;
    const restored = new Uint8Array(image.data.length);
    for (let y = 0; y < 17; y++) {
      expect(raw[y * (stride + 1)]).toBe(1);
      for (let x = 0; x < stride; x++) {
        const left = x >= 3 ? (restored[y * stride + x - 3] ?? 0) : 0;
        restored[y * stride + x] = ((raw[y * (stride + 1) + 1 + x] ?? 0) + left) & 0xff;
      }
    }
    expect(Buffer.from(restored).equals(Buffer.from(image.data))).toBe(true);
  });

  it('writes an 8-bit truecolour IHDR', () => {
    const [ihdr] = readChunks(encodePng(gradient(5, 9)));
    expect(ihdr?.type).toBe('IHDR');
    expect([...(ihdr?.data.subarray(8) ?? [])]).toEqual([8, 2, 0, 0, 0]);
  });

  it('uses tEXt for Latin-1 values and uncompressed iTXt otherwise, like Pillow', () => {
    const png = encodePng(gradient(1, 1), [
      ['latin', 'café'],
      ['unicode', 'チーズ 😀'],
    ]);
    const chunks = readChunks(png);
    const text = chunks.find((c) => c.type === 'tEXt');
    const itxt = chunks.find((c) => c.type === 'iTXt');
    expect(text?.data.equals(Buffer.from('latin\0caf\u00e9', 'latin1'))).toBe(true);
    expect(
      itxt?.data.equals(
        Buffer.concat([Buffer.from('unicode\0\0\0\0\0'), Buffer.from('チーズ 😀', 'utf8')]),
      ),
    ).toBe(true);
  });

  it('rejects bad sizes, short data and invalid keys with clear errors', () => {
    expect(() => encodePng({ width: 0, height: 1, data: new Uint8Array(0) })).toThrow(
      /positive integers/,
    );
    expect(() => encodePng({ width: 2, height: 2, data: new Uint8Array(11) })).toThrow(
      /needs 12 bytes, got 11/,
    );
    expect(() => encodePng(gradient(1, 1), [['', 'x']])).toThrow(/1-79 Latin-1/);
    expect(() => encodePng(gradient(1, 1), [['ключ', 'x']])).toThrow(/Latin-1/);
    expect(() => encodePng(gradient(1, 1), [['k'.repeat(80), 'x']])).toThrow(/1-79/);
  });
});

describe('readPngText', () => {
  it('round-trips Latin-1 and non-Latin-1 text in order', () => {
    const entries: Array<[string, string]> = [
      ['parameters', 'a cat\nNegative prompt: blurry\nSteps: 20'],
      ['comment', 'naïve café'],
      ['unicode', '日本語のプロンプト, emoji 🎨'],
    ];
    expect(readPngText(encodePng(gradient(2, 2), entries))).toEqual(Object.fromEntries(entries));
  });

  it('reads zTXt and compressed iTXt chunks', () => {
    const ztxt = handChunk(
      'zTXt',
      Buffer.concat([Buffer.from('zipped\0\0'), deflateSync(Buffer.from('dé', 'latin1'))]),
    );
    const itxt = handChunk(
      'iTXt',
      Buffer.concat([Buffer.from('intl\0\x01\0en\0Intl\0'), deflateSync(Buffer.from('ü✓'))]),
    );
    expect(readPngText(pngWithChunks(ztxt, itxt))).toEqual({ zipped: 'dé', intl: 'ü✓' });
  });

  it('keeps the last value of a repeated key', () => {
    const png = encodePng(gradient(1, 1), [
      ['k', 'first'],
      ['k', 'second'],
    ]);
    expect(readPngText(png)).toEqual({ k: 'second' });
  });

  it('throws a clear error on data that is not a PNG', () => {
    expect(() => readPngText(Buffer.from('GIF89a......'))).toThrow(/Not a PNG/);
    expect(() => readPngText(Buffer.alloc(0))).toThrow(/Not a PNG/);
  });

  it('throws on truncated data and CRC mismatches', () => {
    const png = encodePng(gradient(2, 2), [['parameters', 'x']]);
    expect(() => readPngText(png.subarray(0, 40))).toThrow(/Truncated PNG/);
    const corrupt = Buffer.from(png);
    const target = 8 + 25 + 10;
    corrupt.writeUInt8(corrupt.readUInt8(target) ^ 0xff, target);
    expect(() => readPngText(corrupt)).toThrow(/CRC mismatch/);
  });
});

describe('decodePngSize', () => {
  it('reads the IHDR size', () => {
    expect(decodePngSize(encodePng(gradient(640, 3)))).toEqual({ width: 640, height: 3 });
  });

  it('rejects non-PNG data', () => {
    expect(() => decodePngSize(Buffer.from('not a png at all, really'))).toThrow(/Not a PNG/);
  });
});
