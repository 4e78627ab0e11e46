import { describe, expect, it } from 'vitest';

import { decodePythonBase64 } from '../../src/engine/image-input.js';
import { probeImage } from '../../src/engine/image-probe.js';
import { encodePng } from '../../src/png.js';

describe('probeImage', () => {
  it('reads PNG size and text, and refuses a corrupt PNG', () => {
    const png = encodePng({ width: 3, height: 2, data: new Uint8Array(18) }, [
      ['parameters', 'hello'],
    ]);
    expect(probeImage(png)).toEqual({
      format: 'PNG',
      width: 3,
      height: 2,
      text: { parameters: 'hello' },
    });
    const broken = Buffer.from(png);
    broken[40] = (broken[40] ?? 0) ^ 0xff;
    expect(probeImage(broken)).toBeNull();
  });

  it('reads JPEG and GIF sizes from their headers', () => {
    const jpeg = Buffer.from([
      0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x20,
      0x00, 0x40, 0x01, 0x01, 0x11, 0x00,
    ]);
    expect(probeImage(jpeg)).toMatchObject({ format: 'JPEG', width: 64, height: 32 });
    const gif = Buffer.concat([Buffer.from('GIF89a'), Buffer.from([10, 0, 20, 0, 0, 0, 0])]);
    expect(probeImage(gif)).toMatchObject({ format: 'GIF', width: 10, height: 20 });
  });

  it('refuses text that is not an image', () => {
    expect(probeImage(Buffer.from('hello world'))).toBeNull();
  });
});

describe('decodePythonBase64', () => {
  it('skips junk characters but insists on padding, as b64decode does', () => {
    expect(decodePythonBase64('aGVs\nbG8=')?.toString()).toBe('hello');
    expect(decodePythonBase64('aGVsbG8')).toBeNull();
    expect(decodePythonBase64('a')).toBeNull();
  });
});
