import { Buffer } from 'node:buffer';
import { deflateSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { isForgeToolError } from '../../src/errors.js';
import { formatInfotext, infotextFloat, parseInfotext } from '../../src/forge/infotext.js';
import {
  PngError,
  readPngParameters,
  readPngSize,
  readPngTextChunks,
  writePngText,
} from '../../src/images/png-text.js';
import {
  compressedTextChunk,
  encodeTestPng,
  headerData,
  inflateImageData,
  internationalTextChunk,
  listChunks,
  PNG_SIGNATURE,
  pngChunk,
  rawScanlines,
  textChunk,
} from './png-fixtures.js';

function expectPngError(run: () => unknown, ...messageParts: string[]): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(PngError);
  expect(isForgeToolError(thrown, 'FT_ERR_PNG_INVALID')).toBe(true);
  for (const part of messageParts) expect((thrown as Error).message).toContain(part);
}

function chunkTypes(png: Buffer): string[] {
  return listChunks(png).map(({ type }) => type);
}

describe('test PNG encoder', () => {
  it('writes the well-known IEND chunk bytes, so its CRCs can be trusted', () => {
    expect(pngChunk('IEND').toString('hex')).toBe('0000000049454e44ae426082');
  });
});

describe('writePngText and the readers', () => {
  it('round-trips ASCII text as a tEXt chunk placed before the first IDAT', () => {
    const png = encodeTestPng(4, 3, { imageDataChunks: 2 });
    const written = writePngText(png, [['parameters', 'a cat\nSteps: 20, Seed: 1, Size: 4x3']]);

    expect(chunkTypes(written)).toEqual(['IHDR', 'tEXt', 'IDAT', 'IDAT', 'IEND']);
    expect(readPngTextChunks(written)).toEqual([
      { keyword: 'parameters', text: 'a cat\nSteps: 20, Seed: 1, Size: 4x3', kind: 'tEXt' },
    ]);
    expect(readPngParameters(written)).toBe('a cat\nSteps: 20, Seed: 1, Size: 4x3');
    expect(inflateImageData(written)).toEqual(rawScanlines(4, 3));
  });

  it('stores Latin-1 text as one byte per character in tEXt', () => {
    const written = writePngText(encodeTestPng(1, 1), [['Comment', 'café ñ ÿ']]);
    const chunk = listChunks(written).find(({ type }) => type === 'tEXt');

    expect(chunk?.data.toString('hex')).toBe(
      Buffer.from('Comment\0café ñ ÿ', 'latin1').toString('hex'),
    );
    expect(readPngTextChunks(written)).toEqual([
      { keyword: 'Comment', text: 'café ñ ÿ', kind: 'tEXt' },
    ]);
  });

  it('stores text beyond Latin-1 as uncompressed iTXt with empty language and translation', () => {
    const text = 'un chat 猫 🐱 — “quoted”';
    const written = writePngText(encodeTestPng(2, 2), [['parameters', text]]);
    const chunk = listChunks(written).find(({ type }) => type === 'iTXt');

    const header = Buffer.from('parameters\0\0\0\0\0', 'latin1');
    expect(chunk?.data).toEqual(Buffer.concat([header, Buffer.from(text, 'utf8')]));
    expect(readPngTextChunks(written)).toEqual([{ keyword: 'parameters', text, kind: 'iTXt' }]);
  });

  it('replaces text chunks with the same keyword wherever they are and keeps the others', () => {
    const png = encodeTestPng(3, 2, {
      beforeImageData: [textChunk('parameters', 'old'), textChunk('Software', 'Forge')],
      afterImageData: [internationalTextChunk('parameters', 'older 猫'), textChunk('Author', 'me')],
    });
    const written = writePngText(png, [
      ['parameters', 'new'],
      ['Title', 'Тест'],
    ]);

    expect(chunkTypes(written)).toEqual(['IHDR', 'tEXt', 'tEXt', 'iTXt', 'IDAT', 'tEXt', 'IEND']);
    expect(readPngTextChunks(written)).toEqual([
      { keyword: 'Software', text: 'Forge', kind: 'tEXt' },
      { keyword: 'parameters', text: 'new', kind: 'tEXt' },
      { keyword: 'Title', text: 'Тест', kind: 'iTXt' },
      { keyword: 'Author', text: 'me', kind: 'tEXt' },
    ]);
  });

  it('copies every other chunk byte for byte and leaves the input unchanged', () => {
    const png = encodeTestPng(5, 5, {
      beforeImageData: [pngChunk('gAMA', Buffer.of(0, 1, 0x86, 0xa0))],
    });
    const before = Buffer.from(png);
    const written = writePngText(png, [['parameters', 'x']]);

    const original = listChunks(png).map(({ type, data }) => `${type}:${data.toString('hex')}`);
    const copied = listChunks(written)
      .filter(({ type }) => type !== 'tEXt')
      .map(({ type, data }) => `${type}:${data.toString('hex')}`);
    expect(copied).toEqual(original);
    expect(png).toEqual(before);
  });

  it('carries an infotext through a PNG and back', () => {
    const infotext = formatInfotext({
      prompt: 'a cat in a hat\nsecond line, 猫',
      negativePrompt: 'blurry',
      parameters: { Steps: 20, Sampler: 'Euler a', 'CFG scale': infotextFloat(7), Seed: 5 },
    });
    const written = writePngText(encodeTestPng(8, 8), [['parameters', infotext]]);
    const text = readPngParameters(written);

    expect(text).toBe(infotext);
    expect(parseInfotext(text ?? '')).toMatchObject({
      prompt: 'a cat in a hat\nsecond line, 猫',
      negativePrompt: 'blurry',
      steps: 20,
      cfgScale: 7,
    });
  });

  it('accepts a Uint8Array view that does not start at the beginning of its buffer', () => {
    const png = encodeTestPng(6, 7);
    const padded = new Uint8Array(png.length + 10);
    padded.set(png, 5);
    const view = padded.subarray(5, 5 + png.length);

    expect(readPngSize(view)).toEqual({ width: 6, height: 7 });
    expect(readPngParameters(writePngText(view, [['parameters', 'p']]))).toBe('p');
  });
});

describe('readPngTextChunks', () => {
  it('reads a zTXt chunk', () => {
    const text = 'compressed Latin-1: déjà vu, '.repeat(20);
    const png = encodeTestPng(2, 2, {
      beforeImageData: [compressedTextChunk('Description', text)],
    });

    expect(readPngTextChunks(png)).toEqual([{ keyword: 'Description', text, kind: 'zTXt' }]);
  });

  it('reads a compressed iTXt chunk with a language tag and a translated keyword', () => {
    const text = 'masterpiece, 猫\nSteps: 20, Sampler: Euler, Seed: 1';
    const chunk = internationalTextChunk('parameters', text, {
      compressed: true,
      language: 'ja',
      translatedKeyword: 'パラメータ',
    });
    const png = encodeTestPng(2, 2, { afterImageData: [chunk] });

    expect(readPngTextChunks(png)).toEqual([{ keyword: 'parameters', text, kind: 'iTXt' }]);
    expect(readPngParameters(png)).toBe(text);
  });

  it('keeps a leading byte order mark in iTXt text', () => {
    const png = encodeTestPng(1, 1, { beforeImageData: [internationalTextChunk('k', '\ufeffx')] });

    expect(readPngTextChunks(png)[0]?.text).toBe('\ufeffx');
  });

  it('returns null without a parameters chunk and the last one when it repeats', () => {
    expect(readPngParameters(encodeTestPng(1, 1))).toBeNull();

    const repeated = encodeTestPng(1, 1, {
      beforeImageData: [textChunk('parameters', 'first')],
      afterImageData: [compressedTextChunk('parameters', 'second')],
    });
    expect(readPngParameters(repeated)).toBe('second');
  });

  it('ignores bytes after IEND', () => {
    const png = Buffer.concat([
      encodeTestPng(1, 1, { beforeImageData: [textChunk('a', 'b')] }),
      Buffer.from('junk'),
    ]);

    expect(readPngTextChunks(png)).toEqual([{ keyword: 'a', text: 'b', kind: 'tEXt' }]);
  });
});

describe('readPngSize', () => {
  it('reads the size from IHDR', () => {
    expect(readPngSize(encodeTestPng(640, 3))).toEqual({ width: 640, height: 3 });
  });
});

/** A PNG whose chunks are exactly these, between the signature and nothing else. */
function pngOf(...chunks: Buffer[]): Buffer {
  return Buffer.concat([PNG_SIGNATURE, ...chunks]);
}

const IHDR = pngChunk('IHDR', headerData(2, 2));
const IDAT = pngChunk('IDAT', deflateSync(rawScanlines(2, 2)));
const IEND = pngChunk('IEND');

describe('malformed PNGs', () => {
  it('rejects bytes that are not a PNG', () => {
    expectPngError(() => readPngTextChunks(Buffer.from('GIF89a not a png')), 'not a PNG', '474946');
    expectPngError(() => readPngSize(Buffer.from('ffd8ffe000104a464946', 'hex')), 'not a PNG');
    expectPngError(() => readPngParameters(new Uint8Array()), 'not a PNG', 'none');
    expectPngError(
      () => readPngSize('png' as unknown as Uint8Array),
      'Uint8Array or Buffer, got string',
    );
  });

  it('rejects a file cut inside a chunk, naming the chunk and its offset', () => {
    const png = encodeTestPng(4, 4);
    const idat = listChunks(png).find(({ type }) => type === 'IDAT');

    expectPngError(
      () => readPngTextChunks(png.subarray(0, png.length - 20)),
      'truncated',
      `chunk IDAT at offset ${idat?.offset}`,
    );
  });

  it('rejects a file cut at a chunk boundary or inside a chunk header', () => {
    expectPngError(
      () => readPngSize(pngOf(IHDR, IDAT)),
      'truncated',
      `ends at offset ${8 + IHDR.length + IDAT.length}`,
    );
    expectPngError(
      () => readPngSize(pngOf(IHDR, IDAT.subarray(0, 5))),
      'ends inside a chunk header',
    );
    expectPngError(() => readPngSize(PNG_SIGNATURE), 'truncated', 'offset 8');
  });

  it('rejects a chunk whose CRC does not match its data', () => {
    const png = encodeTestPng(2, 2, { beforeImageData: [textChunk('parameters', 'steps 20')] });
    const chunk = listChunks(png).find(({ type }) => type === 'tEXt');
    const corrupted = Buffer.from(png);
    const flipped = (chunk?.offset ?? 0) + 8 + 12;
    corrupted.writeUInt8(corrupted.readUInt8(flipped) ^ 0x01, flipped);

    expectPngError(
      () => readPngParameters(corrupted),
      `chunk tEXt at offset ${chunk?.offset} fails its CRC check`,
      'stored 0x',
    );
  });

  it('rejects a stream that does not start with a valid IHDR', () => {
    expectPngError(
      () => readPngSize(pngOf(IDAT, IHDR, IEND)),
      'must start with an IHDR',
      'found IDAT at offset 8',
    );
    expectPngError(
      () => readPngSize(pngOf(pngChunk('IHDR', Buffer.alloc(12)), IDAT, IEND)),
      '12 data bytes',
    );
    expectPngError(
      () => readPngSize(pngOf(pngChunk('IHDR', headerData(0, 5)), IDAT, IEND)),
      'size of 0x5',
    );
    expectPngError(
      () => readPngSize(pngOf(pngChunk('IHDR', headerData(2 ** 31, 1)), IDAT, IEND)),
      '2147483648x1',
    );
  });

  it('rejects a stream without image data', () => {
    expectPngError(() => readPngSize(pngOf(IHDR, IEND)), 'no IDAT');
  });

  it('rejects a chunk type that is not four letters and a length over the PNG limit', () => {
    expectPngError(
      () => readPngSize(pngOf(IHDR, pngChunk('ID1T', Buffer.of(1)), IEND)),
      'type bytes 49443154',
    );

    const huge = Buffer.from(IDAT);
    huge.writeUInt32BE(0x8000_0000, 0);
    expectPngError(
      () => readPngSize(pngOf(IHDR, huge, IEND)),
      'declares 2147483648 data bytes',
      'limit',
    );
  });

  it('rejects malformed text chunks, naming the chunk', () => {
    const cases: Array<[Buffer, string]> = [
      [pngChunk('tEXt', Buffer.from('no separator')), 'no NUL after its keyword'],
      [pngChunk('tEXt', Buffer.from('\0empty keyword')), 'a keyword of 0 bytes'],
      [pngChunk('tEXt', Buffer.from(`${'k'.repeat(80)}\0x`)), 'a keyword of 80 bytes'],
      [pngChunk('zTXt', Buffer.from('k\0\x01abc', 'latin1')), 'compression method 1'],
      [pngChunk('zTXt', Buffer.from('k\0\0not deflate', 'latin1')), 'does not inflate'],
      [pngChunk('iTXt', Buffer.from('k\0\x02\0\0\0x', 'latin1')), 'compression flag 2'],
      [pngChunk('iTXt', Buffer.from('k\0', 'latin1')), 'compression flag missing'],
      [pngChunk('iTXt', Buffer.from('k\0\0\0en', 'latin1')), 'has no NUL terminator'],
      [pngChunk('iTXt', Buffer.from('k\0\x01\x08\0\0x', 'latin1')), 'compression method 8'],
      [
        pngChunk('iTXt', Buffer.concat([Buffer.from('k\0\0\0\0\0'), Buffer.of(0xc3, 0x28)])),
        'not valid UTF-8',
      ],
    ];

    for (const [chunk, message] of cases) {
      const png = pngOf(IHDR, chunk, IDAT, IEND);
      expectPngError(() => readPngTextChunks(png), `chunk at offset ${8 + IHDR.length}`, message);
    }
  });

  it('rejects a writePngText call on a malformed PNG', () => {
    expectPngError(
      () => writePngText(Buffer.from('not a png'), [['parameters', 'x']]),
      'not a PNG',
    );
  });
});

describe('writePngText input rules', () => {
  const png = encodeTestPng(1, 1);

  it.each([
    ['', 'has 0 characters'],
    ['k'.repeat(80), 'has 80 characters'],
    ['line\nbreak', 'outside printable Latin-1'],
    ['猫', 'outside printable Latin-1'],
    ['nbsp\u00a0', 'outside printable Latin-1'],
    [' leading', 'leading, trailing or double space'],
    ['trailing ', 'leading, trailing or double space'],
    ['double  space', 'leading, trailing or double space'],
  ])('rejects the keyword %j', (keyword, message) => {
    expectPngError(() => writePngText(png, [[keyword, 'x']]), message, '1-79 printable Latin-1');
  });

  it('accepts a 79-character keyword and Latin-1 letters in keywords', () => {
    const keyword = `Légende ${'k'.repeat(71)}`;
    expect(readPngTextChunks(writePngText(png, [[keyword, 'v']]))).toEqual([
      { keyword, text: 'v', kind: 'tEXt' },
    ]);
  });

  it('rejects repeated keywords, NUL in text, unpaired surrogates and wrong shapes', () => {
    expectPngError(
      () =>
        writePngText(png, [
          ['a', '1'],
          ['a', '2'],
        ]),
      '"a" appears twice',
    );
    expectPngError(() => writePngText(png, [['a', 'x\0y']]), 'U+0000');
    expectPngError(() => writePngText(png, [['a', 'x\ud800']]), 'unpaired UTF-16 surrogate');
    expectPngError(
      () => writePngText(png, [['a', 5]] as unknown as Array<[string, string]>),
      '[keyword, text] pair',
    );
    expectPngError(
      () => writePngText(png, 'a' as unknown as Array<[string, string]>),
      'must be an array',
    );
  });

  it('writes nothing new and keeps the file valid for an empty list', () => {
    const written = writePngText(png, []);

    expect(written).toEqual(png);
    expect(readPngTextChunks(written)).toEqual([]);
  });
});
