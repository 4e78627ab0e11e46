import { describe, expect, it } from 'vitest';

import { hiresTarget } from '../../src/engine/hires.js';

describe('hiresTarget', () => {
  it('scales by hr_scale with int() truncation', () => {
    expect(hiresTarget(512, 768, 1.5, 1.5, 0, 0)).toMatchObject({
      width: 768,
      height: 1152,
      infotextKey: 'Hires upscale',
    });
    expect(hiresTarget(100, 100, 1.25, 1.25, 0, 0)).toMatchObject({ width: 125, height: 125 });
  });

  it('resizes to one side keeping the aspect ratio', () => {
    expect(hiresTarget(512, 768, 2, 2, 1024, 0)).toMatchObject({
      width: 1024,
      height: 1536,
      infotextValue: '1024x0',
    });
    expect(hiresTarget(512, 768, 2, 2, 0, 1000)).toMatchObject({ width: 666, height: 1000 });
  });

  it('covers a box and crops whole latent cells', () => {
    expect(hiresTarget(512, 768, 2, 2, 1024, 1024)).toMatchObject({
      width: 1024,
      height: 1024,
      infotextKey: 'Hires resize',
    });
    expect(hiresTarget(512, 512, 2, 2, 1000, 500)).toMatchObject({ width: 1000, height: 504 });
  });
});
