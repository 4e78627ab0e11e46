/**
 * Recognizes the image formats Pillow opens for Forge and reads their size from the header,
 * which is all the simulator needs from an input image.
 */
import { decodePngSize, readChunks, readPngText } from '../png.js';

/** A recognized input image. */
export interface ProbedImage {
  /** Pillow's format name. */
  readonly format: 'PNG' | 'JPEG' | 'GIF' | 'BMP' | 'WEBP';
  readonly width: number;
  readonly height: number;
  /** PNG text chunks (what Pillow puts in `image.info`); empty for other formats. */
  readonly text: Readonly<Record<string, string>>;
}

/** Identifies an image and reads its size, or returns null when Pillow would refuse it. */
export function probeImage(bytes: Buffer): ProbedImage | null {
  try {
    return (
      probePng(bytes) ?? probeJpeg(bytes) ?? probeGif(bytes) ?? probeBmp(bytes) ?? probeWebp(bytes)
    );
  } catch {
    return null;
  }
}

function probePng(bytes: Buffer): ProbedImage | null {
  if (bytes.length < 8 || bytes.readUInt32BE(0) !== 0x89504e47) return null;
  const { width, height } = decodePngSize(bytes);
  // Walking the chunks checks their CRCs, so a corrupt file is refused as Pillow refuses it.
  const chunks = readChunks(bytes);
  if (!chunks.some((chunk) => chunk.type === 'IDAT')) return null;
  return checked({ format: 'PNG', width, height, text: readPngText(bytes) });
}

function probeJpeg(bytes: Buffer): ProbedImage | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return null;
    const marker = bytes[offset + 1] ?? 0;
    const length = bytes.readUInt16BE(offset + 2);
    const isStartOfFrame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (isStartOfFrame) {
      const height = bytes.readUInt16BE(offset + 5);
      const width = bytes.readUInt16BE(offset + 7);
      return checked({ format: 'JPEG', width, height, text: {} });
    }
    offset += 2 + length;
  }
  return null;
}

function probeGif(bytes: Buffer): ProbedImage | null {
  const signature = bytes.toString('latin1', 0, 6);
  if (signature !== 'GIF87a' && signature !== 'GIF89a') return null;
  return checked({
    format: 'GIF',
    width: bytes.readUInt16LE(6),
    height: bytes.readUInt16LE(8),
    text: {},
  });
}

function probeBmp(bytes: Buffer): ProbedImage | null {
  if (bytes.length < 26 || bytes.toString('latin1', 0, 2) !== 'BM') return null;
  const width = bytes.readInt32LE(18);
  const height = Math.abs(bytes.readInt32LE(22));
  return checked({ format: 'BMP', width, height, text: {} });
}

function probeWebp(bytes: Buffer): ProbedImage | null {
  if (bytes.length < 30 || bytes.toString('latin1', 0, 4) !== 'RIFF') return null;
  if (bytes.toString('latin1', 8, 12) !== 'WEBP') return null;
  const kind = bytes.toString('latin1', 12, 16);
  if (kind === 'VP8X') {
    const width = 1 + bytes.readUIntLE(24, 3);
    const height = 1 + bytes.readUIntLE(27, 3);
    return checked({ format: 'WEBP', width, height, text: {} });
  }
  if (kind === 'VP8L') {
    const bits = bytes.readUInt32LE(21);
    return checked({
      format: 'WEBP',
      width: (bits & 0x3fff) + 1,
      height: ((bits >> 14) & 0x3fff) + 1,
      text: {},
    });
  }
  if (kind === 'VP8 ') {
    const width = bytes.readUInt16LE(26) & 0x3fff;
    const height = bytes.readUInt16LE(28) & 0x3fff;
    return checked({ format: 'WEBP', width, height, text: {} });
  }
  return null;
}

function checked(image: ProbedImage): ProbedImage | null {
  return image.width > 0 && image.height > 0 ? image : null;
}
