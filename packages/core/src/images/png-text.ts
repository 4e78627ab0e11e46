/**
 * PNG text chunks: where Forge keeps an image's infotext (the `parameters` keyword).
 *
 * Every function here checks the whole file first (signature, chunk lengths, CRC-32 of every
 * chunk, IHDR first, an IDAT, an IEND), so bytes that pass are a well-formed chunk stream.
 * Pixel data is never decoded. A PNG is laid out as (PNG specification, "File structure"):
 *
 * ```
 * signature (8 bytes) | chunk | chunk | ... | IEND chunk
 * chunk = length (4, big-endian) | type (4 ASCII letters) | data (length bytes) | CRC-32 (4)
 * ```
 */
import { Buffer } from 'node:buffer';
import { crc32, inflateSync } from 'node:zlib';

import { ForgeToolError } from '../errors.js';
import type { ForgeToolErrorOptions } from '../errors.js';

/**
 * Thrown when bytes are not a well-formed PNG, or when text cannot be stored in one; its code
 * is `FT_ERR_PNG_INVALID`. The message says what is wrong and where (byte offset, chunk type).
 */
export class PngError extends ForgeToolError {
  constructor(message: string, options: ForgeToolErrorOptions = {}) {
    super('FT_ERR_PNG_INVALID', message, options);
  }
}

/** The three PNG chunk types that carry text. */
export type PngTextKind = 'tEXt' | 'zTXt' | 'iTXt';

/** One decoded text chunk. */
export interface PngTextChunk {
  readonly keyword: string;
  readonly text: string;
  readonly kind: PngTextKind;
}

/** Image size in pixels, from the IHDR chunk. */
export interface PngSize {
  readonly width: number;
  readonly height: number;
}

interface RawChunk {
  readonly type: string;
  /** Offset of the chunk's length field in the file. */
  readonly offset: number;
  readonly data: Buffer;
  /** The whole chunk (length, type, data, CRC), as stored. */
  readonly bytes: Buffer;
}

/** The eight bytes every PNG starts with. @internal */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHUNK_OVERHEAD_BYTES = 12;
const MAX_CHUNK_LENGTH = 0x7fff_ffff;
const MAX_DIMENSION = 0x7fff_ffff;
const IHDR_LENGTH = 13;
const MAX_KEYWORD_LENGTH = 79;
/** Caps what one compressed text chunk may inflate to, so a small file cannot exhaust memory. */
const MAX_INFLATED_TEXT_BYTES = 16 * 1024 * 1024;
const PARAMETERS_KEYWORD = 'parameters';
const TEXT_KINDS: ReadonlySet<string> = new Set<PngTextKind>(['tEXt', 'zTXt', 'iTXt']);
const KEYWORD_RULE =
  'a keyword is 1-79 printable Latin-1 characters (U+0020-U+007E, U+00A1-U+00FF) ' +
  'without leading, trailing or double spaces';

/**
 * Reads every tEXt (Latin-1), zTXt (deflate, Latin-1) and iTXt (UTF-8, compressed or not)
 * chunk, in file order, before and after the image data.
 *
 * @example
 * for (const { keyword, text } of readPngTextChunks(bytes)) console.log(keyword, text);
 * @throws {PngError} `FT_ERR_PNG_INVALID` when the file or a text chunk is malformed.
 */
export function readPngTextChunks(png: Uint8Array): PngTextChunk[] {
  return readChunks(png).filter(isTextChunk).map(decodeTextChunk);
}

/**
 * The image's infotext: the text of its `parameters` chunk, or `null` when it has none.
 * When several chunks carry that keyword the last one wins, as in a dictionary of text keys.
 *
 * @throws {PngError} `FT_ERR_PNG_INVALID` when the file or a text chunk is malformed.
 */
export function readPngParameters(png: Uint8Array): string | null {
  const chunks = readPngTextChunks(png).filter(({ keyword }) => keyword === PARAMETERS_KEYWORD);
  return chunks.at(-1)?.text ?? null;
}

/**
 * Returns a copy of the PNG with the given text chunks inserted before the first IDAT, as Pillow
 * writes them: tEXt when the text is Latin-1, otherwise uncompressed iTXt (UTF-8, empty language
 * tag and translated keyword). Existing text chunks with one of the keywords are removed; all
 * other chunks are copied byte for byte. Bytes after IEND are not copied.
 *
 * @example
 * const tagged = writePngText(bytes, [['parameters', formatInfotext(infotext)]]);
 * @throws {PngError} `FT_ERR_PNG_INVALID` when the PNG is malformed, a keyword breaks the PNG
 *   keyword rules, a keyword repeats, or a text holds U+0000 or an unpaired UTF-16 surrogate.
 */
export function writePngText(
  png: Uint8Array,
  entries: ReadonlyArray<readonly [keyword: string, text: string]>,
): Buffer {
  const chunks = readChunks(png);
  const keywords = assertEntries(entries);
  const added = entries.map(([keyword, text]) => encodeTextChunk(keyword, text));

  const kept = chunks.filter((chunk) => !isTextChunk(chunk) || !keywords.has(readKeyword(chunk)));
  const firstImageData = kept.findIndex(({ type }) => type === 'IDAT');
  return Buffer.concat([
    PNG_SIGNATURE,
    ...kept.slice(0, firstImageData).map(({ bytes }) => bytes),
    ...added,
    ...kept.slice(firstImageData).map(({ bytes }) => bytes),
  ]);
}

/**
 * The image size from the IHDR chunk.
 *
 * @throws {PngError} `FT_ERR_PNG_INVALID` when the file is malformed.
 */
export function readPngSize(png: Uint8Array): PngSize {
  const [header] = readChunks(png);
  if (header === undefined) throw new PngError('PNG has no IHDR chunk');
  return { width: header.data.readUInt32BE(0), height: header.data.readUInt32BE(4) };
}

/** Walks and checks the chunk stream up to IEND; bytes after IEND are ignored, as readers do. */
function readChunks(png: Uint8Array): RawChunk[] {
  const bytes = toBuffer(png);
  assertSignature(bytes);

  const chunks: RawChunk[] = [];
  let offset = PNG_SIGNATURE.length;
  while (chunks.at(-1)?.type !== 'IEND') {
    const chunk = readChunkAt(bytes, offset);
    if (chunks.length === 0) assertHeader(chunk);
    chunks.push(chunk);
    offset += chunk.bytes.length;
  }

  if (!chunks.some(({ type }) => type === 'IDAT')) {
    throw new PngError('PNG has no IDAT chunk: there is no image data');
  }
  return chunks;
}

function toBuffer(png: Uint8Array): Buffer {
  if (!(png instanceof Uint8Array)) {
    throw new PngError(`expected PNG bytes as a Uint8Array or Buffer, got ${typeof png}`);
  }
  return Buffer.from(png.buffer, png.byteOffset, png.byteLength);
}

function assertSignature(bytes: Buffer): void {
  const signature = bytes.subarray(0, PNG_SIGNATURE.length);
  if (!signature.equals(PNG_SIGNATURE)) {
    throw new PngError(
      `not a PNG: the file does not start with the 8-byte PNG signature ` +
        `(first bytes: ${signature.toString('hex') || 'none'})`,
    );
  }
}

function readChunkAt(bytes: Buffer, offset: number): RawChunk {
  if (offset + 8 > bytes.length) {
    const problem = offset === bytes.length ? 'ends' : 'ends inside a chunk header';
    throw new PngError(`PNG is truncated: the file ${problem} at offset ${offset} before IEND`);
  }

  const length = bytes.readUInt32BE(offset);
  const type = readChunkType(bytes, offset);
  if (length > MAX_CHUNK_LENGTH) {
    throw new PngError(
      `PNG chunk ${type} at offset ${offset} declares ${length} data bytes; the limit is 2^31-1`,
    );
  }
  const end = offset + CHUNK_OVERHEAD_BYTES + length;
  if (end > bytes.length) {
    throw new PngError(
      `PNG is truncated: chunk ${type} at offset ${offset} declares ${length} data bytes ` +
        `but only ${Math.max(0, bytes.length - offset - CHUNK_OVERHEAD_BYTES)} remain`,
    );
  }

  const chunk = {
    type,
    offset,
    data: bytes.subarray(offset + 8, end - 4),
    bytes: bytes.subarray(offset, end),
  };
  assertChunkCrc(chunk);
  return chunk;
}

function readChunkType(bytes: Buffer, offset: number): string {
  const typeBytes = bytes.subarray(offset + 4, offset + 8);
  if (
    !typeBytes.every((byte) => (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a))
  ) {
    throw new PngError(
      `PNG chunk at offset ${offset} has type bytes ${typeBytes.toString('hex')}; ` +
        'a chunk type is four ASCII letters',
    );
  }
  return typeBytes.toString('latin1');
}

function assertChunkCrc({ type, offset, bytes }: RawChunk): void {
  const crcOffset = bytes.length - 4;
  const stored = bytes.readUInt32BE(crcOffset);
  const computed = crc32(bytes.subarray(4, crcOffset));
  if (stored !== computed) {
    throw new PngError(
      `PNG chunk ${type} at offset ${offset} fails its CRC check ` +
        `(stored ${hex32(stored)}, computed ${hex32(computed)}): the file is corrupted`,
    );
  }
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

function assertHeader({ type, offset, data }: RawChunk): void {
  if (type !== 'IHDR') {
    throw new PngError(`PNG must start with an IHDR chunk, found ${type} at offset ${offset}`);
  }
  if (data.length !== IHDR_LENGTH) {
    throw new PngError(`PNG IHDR chunk has ${data.length} data bytes; it must have ${IHDR_LENGTH}`);
  }

  const width = data.readUInt32BE(0);
  const height = data.readUInt32BE(4);
  if (width < 1 || height < 1 || width > MAX_DIMENSION || height > MAX_DIMENSION) {
    throw new PngError(
      `PNG IHDR gives a size of ${width}x${height}; each side must be 1 to 2^31-1`,
    );
  }
}

function isTextChunk(chunk: RawChunk): boolean {
  return TEXT_KINDS.has(chunk.type);
}

function decodeTextChunk(chunk: RawChunk): PngTextChunk {
  const keyword = readKeyword(chunk);
  const bodyStart = Buffer.byteLength(keyword, 'latin1') + 1;
  const kind = chunk.type as PngTextKind;
  if (kind === 'tEXt') return { keyword, kind, text: chunk.data.toString('latin1', bodyStart) };
  if (kind === 'zTXt') return { keyword, kind, text: decodeCompressedText(chunk, bodyStart) };
  return { keyword, kind, text: decodeInternationalText(chunk, bodyStart) };
}

/** Every text chunk starts with a keyword of 1-79 Latin-1 bytes ended by a NUL byte. */
function readKeyword({ type, offset, data }: RawChunk): string {
  const end = data.indexOf(0);
  if (end < 1 || end > MAX_KEYWORD_LENGTH) {
    const found = end === -1 ? 'no NUL after its keyword' : `a keyword of ${end} bytes`;
    throw new PngError(`PNG ${type} chunk at offset ${offset} has ${found}; ${KEYWORD_RULE}`);
  }
  return data.toString('latin1', 0, end);
}

/** zTXt after the keyword: compression method (0 = deflate), then the zlib stream. */
function decodeCompressedText(chunk: RawChunk, bodyStart: number): string {
  const method = chunk.data[bodyStart];
  assertCompressionMethod(chunk, method);
  return inflateText(chunk, chunk.data.subarray(bodyStart + 1)).toString('latin1');
}

/**
 * iTXt after the keyword: compression flag, compression method, language tag + NUL,
 * translated keyword + NUL, then the UTF-8 text (a zlib stream when the flag is 1).
 */
function decodeInternationalText(chunk: RawChunk, bodyStart: number): string {
  const { data, offset } = chunk;
  const compressed = data[bodyStart];
  if (compressed !== 0 && compressed !== 1) {
    throw new PngError(
      `PNG iTXt chunk at offset ${offset} has compression flag ${compressed ?? 'missing'}; ` +
        'it must be 0 or 1',
    );
  }
  if (compressed === 1) assertCompressionMethod(chunk, data[bodyStart + 1]);

  const languageEnd = data.indexOf(0, bodyStart + 2);
  const translatedEnd = languageEnd === -1 ? -1 : data.indexOf(0, languageEnd + 1);
  if (translatedEnd === -1) {
    throw new PngError(
      `PNG iTXt chunk at offset ${offset} is cut off: its language tag or translated keyword ` +
        'has no NUL terminator',
    );
  }

  const body = data.subarray(translatedEnd + 1);
  return decodeUtf8(chunk, compressed === 1 ? inflateText(chunk, body) : body);
}

function assertCompressionMethod({ type, offset }: RawChunk, method: number | undefined): void {
  if (method !== 0) {
    throw new PngError(
      `PNG ${type} chunk at offset ${offset} has compression method ${method ?? 'missing'}; ` +
        'only 0 (deflate) exists',
    );
  }
}

function inflateText({ type, offset }: RawChunk, compressed: Buffer): Buffer {
  try {
    return inflateSync(compressed, { maxOutputLength: MAX_INFLATED_TEXT_BYTES });
  } catch (error) {
    throw new PngError(
      `PNG ${type} chunk at offset ${offset} holds text that does not inflate ` +
        `(at most ${MAX_INFLATED_TEXT_BYTES} bytes): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function decodeUtf8({ offset }: RawChunk, bytes: Buffer): string {
  try {
    // ignoreBOM keeps a leading U+FEFF as text instead of dropping it.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    throw new PngError(`PNG iTXt chunk at offset ${offset} holds text that is not valid UTF-8`, {
      cause: error,
    });
  }
}

function assertEntries(entries: ReadonlyArray<readonly [string, string]>): Set<string> {
  if (!Array.isArray(entries)) {
    throw new PngError('PNG text entries must be an array of [keyword, text] pairs');
  }

  const keywords = new Set<string>();
  for (const entry of entries) {
    const [keyword, text] = assertEntry(entry);
    if (keywords.has(keyword)) {
      throw new PngError(`PNG text keyword ${JSON.stringify(keyword)} appears twice; give it once`);
    }
    keywords.add(keyword);
    assertStorableText(keyword, text);
  }
  return keywords;
}

function assertEntry(entry: unknown): readonly [string, string] {
  if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') {
    throw new PngError('each PNG text entry must be a [keyword, text] pair of strings');
  }

  const keyword = entry[0];
  const problem = keywordProblem(keyword);
  if (problem !== undefined) {
    throw new PngError(`PNG text keyword ${JSON.stringify(keyword)} ${problem}; ${KEYWORD_RULE}`);
  }
  return [keyword, entry[1]];
}

function keywordProblem(keyword: string): string | undefined {
  if (keyword.length < 1 || keyword.length > MAX_KEYWORD_LENGTH) {
    return `has ${keyword.length} characters`;
  }
  if (/[^\x20-\x7e\xa1-\xff]/.test(keyword)) return 'holds a character outside printable Latin-1';
  if (/^ | $| {2}/.test(keyword)) return 'has a leading, trailing or double space';
  return undefined;
}

function assertStorableText(keyword: string, text: string): void {
  // A NUL would end the text early for readers that split on it; neither chunk kind allows one.
  if (text.includes('\0')) {
    throw new PngError(
      `PNG text for ${JSON.stringify(keyword)} holds U+0000, which PNG text forbids`,
    );
  }
  if (/[\ud800-\udfff]/u.test(text)) {
    throw new PngError(
      `PNG text for ${JSON.stringify(keyword)} holds an unpaired UTF-16 surrogate, ` +
        'which has no UTF-8 form',
    );
  }
}

function encodeTextChunk(keyword: string, text: string): Buffer {
  const keywordBytes = Buffer.from(keyword, 'latin1');
  if (/^[\0-\xff]*$/.test(text)) {
    return encodePngChunk(
      'tEXt',
      Buffer.concat([keywordBytes, Buffer.of(0), Buffer.from(text, 'latin1')]),
    );
  }
  // Keyword NUL, flag 0 (uncompressed), method 0, empty language tag NUL, empty translation NUL.
  const header = Buffer.of(0, 0, 0, 0, 0);
  return encodePngChunk('iTXt', Buffer.concat([keywordBytes, header, Buffer.from(text, 'utf8')]));
}

/** One PNG chunk: length, type, data and the CRC of type and data. @internal */
export function encodePngChunk(type: string, data: Uint8Array): Buffer {
  const chunk = Buffer.alloc(CHUNK_OVERHEAD_BYTES + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  chunk.set(data, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}
