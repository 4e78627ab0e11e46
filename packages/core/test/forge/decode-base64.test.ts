import { describe, expect, it } from 'vitest';

import { decodeBase64 } from '../../src/forge/generation-schemas.js';

describe('decodeBase64', () => {
  it.each([
    ['QUJD', 'ABC'],
    ['QUI=', 'AB'],
    ['QQ==', 'A'],
    ['data:image/png;base64,QUJD', 'ABC'],
    ['', ''],
  ])('decodes %j', (text, expected) => {
    expect(decodeBase64(text)?.toString('latin1')).toBe(expected);
  });

  it.each(['QU!D', 'QQ=A', 'Q Q=', 'QUJD\nQUJD', '====', 'QUJ', 'not base64 at all'])(
    'rejects %j',
    (text) => {
      expect(decodeBase64(text)).toBeUndefined();
    },
  );

  it('round-trips a large random payload', () => {
    const bytes = Buffer.from(Array.from({ length: 300_001 }, (_, index) => (index * 7919) % 256));

    expect(decodeBase64(bytes.toString('base64'))?.equals(bytes)).toBe(true);
  });
});
