import { describe, expect, it } from 'vitest';

import { applyStyles } from '../src/catalog/index.js';
import type { InfotextFields } from '../src/infotext/index.js';
import {
  createInfotext,
  parseGenerationParameters,
  quoteInfotextValue,
} from '../src/infotext/index.js';
import { pyFloat } from '../src/python-format.js';

const SD15_TITLE = 'v1-5-pruned-emaonly.safetensors [6ce0161689]';

// forge-api.md §8.3, first example (SD 1.5 via the API).
const SD15_EXAMPLE = `a cat
Negative prompt: blurry
Steps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7.0, Seed: 1234, Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: f2.0.1v1.10.1-previous-669-gdfdcbab6`;

// forge-api.md §8.3, second example (Flux dev observed in the wild), with <stem> filled in.
const FLUX_EXAMPLE =
  'Steps: 20, Sampler: Euler, Schedule type: Simple, CFG scale: 1, Distilled CFG Scale: 3.5, Seed: 2961654875, Size: 720x1280, Model hash: cfd31fba80, Model: <stem>, Lora hashes: "a: 1ba60a4cff60, b: b75b64b701c4", Version: f2.0.1v1.10.1-previous-669-gdfdcbab6, Module 1: clip_l, Module 2: ae, Module 3: t5xxl_fp8_e4m3fn'.replace(
    '<stem>',
    'flux1-dev-bnb-nf4-v2',
  );

const SD15_FIELDS: InfotextFields = {
  prompt: 'a cat',
  negativePrompt: 'blurry',
  steps: 20,
  sampler: 'Euler a',
  scheduleType: 'Automatic',
  cfgScale: pyFloat(7),
  seed: 1234,
  width: 512,
  height: 512,
  modelHash: '6ce0161689',
  model: 'v1-5-pruned-emaonly',
};

describe('createInfotext', () => {
  it('reproduces the SD 1.5 example of §8.3', () => {
    expect(createInfotext(SD15_FIELDS)).toBe(SD15_EXAMPLE);
  });

  it('reproduces the Flux example of §8.3', () => {
    const text = createInfotext({
      prompt: '',
      steps: 20,
      sampler: 'Euler',
      scheduleType: 'Simple',
      cfgScale: 1,
      distilledCfgScale: pyFloat(3.5),
      seed: 2_961_654_875,
      width: 720,
      height: 1280,
      modelHash: 'cfd31fba80',
      model: 'flux1-dev-bnb-nf4-v2',
      extra: [['Lora hashes', 'a: 1ba60a4cff60, b: b75b64b701c4']],
      lowBits: 'Automatic',
      modules: [
        '/opt/forge/models/text_encoder/clip_l.safetensors',
        'ae.safetensors',
        't5xxl_fp8_e4m3fn',
      ],
    });
    expect(text).toBe(FLUX_EXAMPLE);
  });

  it('omits the negative prompt line when it is empty', () => {
    expect(createInfotext({ ...SD15_FIELDS, negativePrompt: '' })).toBe(
      SD15_EXAMPLE.replace('\nNegative prompt: blurry', ''),
    );
  });

  it('keeps multi-line prompts verbatim and strips the whole text', () => {
    const text = createInfotext({
      ...SD15_FIELDS,
      prompt: '  line one\nline two',
      negativePrompt: null,
    });
    expect(text.startsWith('line one\nline two\nSteps: 20, ')).toBe(true);
  });

  it('prints optional keys only when Forge would', () => {
    const text = createInfotext({
      ...SD15_FIELDS,
      variationSeed: 99,
      variationSeedStrength: pyFloat(0.3),
      seedResizeFrom: { width: 640, height: 480 },
      denoisingStrength: pyFloat(0.75),
      clipSkip: 2,
      tiling: true,
      faceRestoration: 'CodeFormer',
      version: null,
    });
    expect(text.split('\n').at(-1)).toBe(
      'Steps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7.0, Seed: 1234, Face restoration: CodeFormer, Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Variation seed: 99, Variation seed strength: 0.3, Seed resize from: 640x480, Denoising strength: 0.75, Clip skip: 2, Tiling: True',
    );
  });

  it('leaves out zero variation strength, partial seed resize and clip skip 1', () => {
    const text = createInfotext({
      ...SD15_FIELDS,
      variationSeed: 99,
      variationSeedStrength: 0,
      seedResizeFrom: { width: 0, height: 480 },
      clipSkip: 1,
      tiling: false,
    });
    expect(text).toBe(SD15_EXAMPLE);
  });

  it('writes extra parameters in order and overwrites existing keys in place', () => {
    const text = createInfotext({
      ...SD15_FIELDS,
      sampler: 'DPM++ 2M',
      version: null,
      extra: [
        ['Schedule type', 'Karras'],
        ['Denoising strength', pyFloat(0.4)],
        ['Hires Module 1', 'Use same choices'],
        ['Hires CFG Scale', pyFloat(1)],
        ['Hires upscale', pyFloat(2)],
        ['Hires upscaler', 'Latent'],
      ],
    });
    expect(text.split('\n').at(-1)).toBe(
      'Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7.0, Seed: 1234, Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.4, Hires Module 1: Use same choices, Hires CFG Scale: 1.0, Hires upscale: 2.0, Hires upscaler: Latent',
    );
  });

  it('puts Version, low bits and modules last, and prints a key equal to its value alone', () => {
    const text = createInfotext({
      ...SD15_FIELDS,
      extra: [['NGMS', 'NGMS']],
      lowBits: 'bnb-nf4',
      modules: ['/opt/forge/models/VAE/ae.safetensors'],
    });
    expect(
      text.endsWith(
        'NGMS, Version: f2.0.1v1.10.1-previous-669-gdfdcbab6, Diffusion in Low Bits: bnb-nf4, Module 1: ae',
      ),
    ).toBe(true);
  });

  it('quotes values with commas, colons or newlines as JSON without escaping non-ASCII', () => {
    const text = createInfotext({
      ...SD15_FIELDS,
      version: null,
      extra: [
        ['Hires prompt', 'a, b'],
        ['Note', 'x: y'],
        ['Multi', 'line1\nline2'],
        ['Accents', 'café, ü'],
        ['Plain accents', 'café'],
        ['Quotes', 'say "hi", ok'],
      ],
    });
    expect(text.split('\n').at(-1)).toBe(
      'Steps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7.0, Seed: 1234, Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Hires prompt: "a, b", Note: "x: y", Multi: "line1\\nline2", Accents: "café, ü", Plain accents: café, Quotes: "say \\"hi\\", ok"',
    );
  });
});

describe('quoteInfotextValue', () => {
  it.each<[unknown, string]>([
    ['plain', 'plain'],
    ['tab\there', 'tab\there'],
    ['日本,語', '"日本,語"'],
    [pyFloat(0.4), '0.4'],
    [pyFloat(2), '2.0'],
    [true, 'True'],
    [['a', 'b'], '["a", "b"]'],
    [['a:b', pyFloat(1)], '["a:b", 1.0]'],
  ])('quotes %j as %s', (value, expected) => {
    expect(quoteInfotextValue(value)).toBe(expected);
  });
});

// Expected objects below are the output of Forge's own parse_generation_parameters (plus the
// LoRA paste hook) run on the same text, key order included.
describe('parseGenerationParameters', () => {
  it('parses the SD 1.5 example and drops the current model', () => {
    const parsed = parseGenerationParameters(SD15_EXAMPLE, { model: SD15_TITLE });
    expect(JSON.stringify(parsed)).toBe(
      JSON.stringify({
        Steps: '20',
        Sampler: 'Euler a',
        'Schedule type': 'Automatic',
        'CFG scale': '7.0',
        Seed: '1234',
        'Size-1': '512',
        'Size-2': '512',
        'Model hash': '6ce0161689',
        Version: 'f2.0.1v1.10.1-previous-669-gdfdcbab6',
        Prompt: 'a cat',
        'Negative prompt': 'blurry',
        'Clip skip': '1',
        'Hires resize-1': 0,
        'Hires resize-2': 0,
        'Hires sampler': 'Use same sampler',
        'Hires schedule type': 'Use same scheduler',
        'Hires checkpoint': 'Use same checkpoint',
        'Hires prompt': '',
        'Hires negative prompt': '',
        'Mask mode': 'Inpaint masked',
        'Masked content': 'original',
        'Inpaint area': 'Whole picture',
        'Masked area padding': 32,
        RNG: 'GPU',
        'Schedule max sigma': 0,
        'Schedule min sigma': 0,
        'Schedule rho': 0,
        'VAE Encoder': 'Full',
        'VAE Decoder': 'Full',
        'FP8 weight': 'Disable',
        'Refiner switch by sampling steps': false,
        'Hires VAE/TE': ['Use same choices'],
      }),
    );
  });

  it('keeps Model when another checkpoint is current', () => {
    const parsed = parseGenerationParameters(SD15_EXAMPLE, { model: 'sd_xl_base_1.0.safetensors' });
    expect(parsed['Model']).toBe('v1-5-pruned-emaonly');
  });

  it('maps Forge modules to VAE/TE when they differ from the current ones', () => {
    const parsed = parseGenerationParameters(FLUX_EXAMPLE, { model: SD15_TITLE });
    expect(parsed['VAE/TE']).toEqual([
      'clip_l.safetensors',
      'ae.safetensors',
      't5xxl_fp8_e4m3fn.safetensors',
    ]);
    expect(parsed['Lora hashes']).toBe('a: 1ba60a4cff60, b: b75b64b701c4');
    expect(parsed['Distilled CFG Scale']).toBe('3.5');
    expect(parsed['Prompt']).toBe('');

    const same = parseGenerationParameters(FLUX_EXAMPLE, {
      modules: [
        '/opt/forge/models/text_encoder/t5xxl_fp8_e4m3fn.safetensors',
        '/opt/forge/models/text_encoder/clip_l.safetensors',
        '/opt/forge/models/VAE/ae.safetensors',
      ],
    });
    expect(same).not.toHaveProperty('VAE/TE');
  });

  it('keeps unknown modules and resolves hires modules', () => {
    const parsed = parseGenerationParameters(
      'Steps: 20, Sampler: Euler, Module 1: clip_l, Module 2: mystery_vae, Hires Module 1: ae, Hires Module 2: nope',
    );
    expect(parsed['VAE/TE']).toEqual(['clip_l.safetensors', 'mystery_vae']);
    expect(parsed['Hires VAE/TE']).toEqual(['ae.safetensors']);
    expect(parsed['Schedule type']).toBe('Automatic');
    expect(parsed['Prompt']).toBe('');
  });

  it('moves styles found in the prompts into Styles array', () => {
    const styled = applyStyles('a (red:1.2) cat', 'blurry', ['Cinematic']);
    const text = createInfotext({
      ...SD15_FIELDS,
      prompt: styled.prompt,
      negativePrompt: styled.negativePrompt,
    });
    const parsed = parseGenerationParameters(text, { model: SD15_TITLE });
    expect(parsed['Styles array']).toEqual(['Cinematic']);
    expect(parsed['Prompt']).toBe('a (red:1.2) cat');
    expect(parsed['Negative prompt']).toBe('blurry');
    expect(parsed['Emphasis']).toBe('Original');
  });

  it('detects emphasis the way parse_prompt_attention weighs it', () => {
    const parse = (prompt: string, negative = ''): unknown =>
      parseGenerationParameters(
        `${prompt}\nNegative prompt: ${negative}\nSteps: 20, Sampler: Euler, Seed: 5`,
      )['Emphasis'];
    expect(parse('a ((cat)) [dog] BREAK sky')).toBe('Original');
    expect(parse('[(balanced)] and \\(escaped\\)')).toBeUndefined();
    expect(parse('plain', '(unbalanced')).toBe('Original');
    expect(parse('a BREAK b', '(x:1.0)')).toBeUndefined();
  });

  it('replaces LoRA aliases through their hashes, as the LoRA paste hook does', () => {
    const parsed = parseGenerationParameters(
      '<lora:pixel-art-xl:0.8> <lora:add_detail:1> <lora:other:1> pixel art\nSteps: 20, Sampler: Euler, Seed: 5, Lora hashes: "pixel-art-xl: 41334a91c774, add_detail: 393fd22c0661, other: ffffffffffff"',
    );
    expect(parsed['Prompt']).toBe(
      '<lora:pixel-art-xl-v1.1:0.8> <lora:add_detail:1> <lora:other:1> pixel art',
    );
  });

  it('treats a last line with fewer than 3 parameters as prompt text', () => {
    const parsed = parseGenerationParameters('two fields: a, b: c');
    expect(parsed['Prompt']).toBe('two fields: a, b: c');
    expect(parsed).not.toHaveProperty('two fields');
  });

  it('unquotes JSON values, skips empty ones and keeps broken quotes raw', () => {
    const parsed = parseGenerationParameters(
      'multi\nline prompt\nNegative prompt: neg one\nneg two\nSteps: 20, Sampler: Euler a, Seed: 5, Empty: , Quoted: "a: b, c", Escaped: "say \\"hi\\"", Bad: "unterminated, Tail: 3',
    );
    expect(parsed['Prompt']).toBe('multi\nline prompt');
    expect(parsed['Negative prompt']).toBe('neg one\nneg two');
    expect(parsed['Quoted']).toBe('a: b, c');
    expect(parsed['Escaped']).toBe('say "hi"');
    expect(parsed['Bad']).toBe('"unterminated');
    expect(parsed['Tail']).toBe('3');
    expect(parsed).not.toHaveProperty('Empty');
  });

  it('translates an old first-pass size into size and hires resize', () => {
    const parsed = parseGenerationParameters(
      'a cat\nSteps: 20, Sampler: Euler, Seed: 5, First pass size: 0x0, Size: 1024x768',
    );
    expect([
      parsed['Size-1'],
      parsed['Size-2'],
      parsed['Hires resize-1'],
      parsed['Hires resize-2'],
    ]).toEqual([640, 448, 1024, 768]);
  });

  it('flags old versions for backward compatibility', () => {
    const old = parseGenerationParameters(
      'a [cat]\nSteps: 20, Sampler: DDIM, Seed: 5, Version: v1.5.1, Refiner: sdxl_refiner',
    );
    expect(old).toMatchObject({
      'Old prompt editing timelines': true,
      'Pad conds v0': true,
      'Downcast alphas_cumprod': true,
      'Refiner switch by sampling steps': true,
    });
    const justBefore = parseGenerationParameters(
      'a\nSteps: 1, Sampler: Euler, Version: v1.7.0-224-gabc',
    );
    const justAfter = parseGenerationParameters(
      'a\nSteps: 1, Sampler: Euler, Version: v1.7.0-225-gabc',
    );
    expect(justBefore['Downcast alphas_cumprod']).toBe(true);
    expect(justAfter).not.toHaveProperty('Downcast alphas_cumprod');
  });

  it('repairs Civitai Flux metadata', () => {
    const parsed = parseGenerationParameters(
      'x\nSteps: 20, Sampler: Undefined, CFG scale: 3.5, Clip skip: 2, Seed: 5, Civitai resources: FLUX',
    );
    expect(parsed).toMatchObject({
      Sampler: 'Euler',
      'Schedule type': 'Simple',
      'CFG scale': '1',
      'Distilled CFG Scale': '3.5',
      'Clip skip': '1',
    });
  });

  it('raises where Forge raises, with the Python exception name', () => {
    expect(() =>
      parseGenerationParameters('a (cat:1.2.3)\nSteps: 20, Sampler: Euler, Seed: 5'),
    ).toThrow(expect.objectContaining({ name: 'ValueError' }));
    expect(() =>
      parseGenerationParameters(
        'a\nSteps: 20, Sampler: Euler, Seed: 5, Lora hashes: "a: 1, broken"',
      ),
    ).toThrow(expect.objectContaining({ name: 'IndexError' }));
  });

  it('round-trips what createInfotext writes', () => {
    const text = createInfotext({
      ...SD15_FIELDS,
      prompt: 'a cat, sitting: calmly',
      negativePrompt: 'blurry\nugly',
      clipSkip: 2,
      extra: [
        ['Hires prompt', 'a dog, running'],
        ['Hires upscale', pyFloat(2)],
      ],
    });
    const parsed = parseGenerationParameters(text, { model: SD15_TITLE });
    expect(parsed).toMatchObject({
      Prompt: 'a cat, sitting: calmly',
      'Negative prompt': 'blurry\nugly',
      Steps: '20',
      'CFG scale': '7.0',
      'Size-1': '512',
      'Size-2': '512',
      'Clip skip': '2',
      'Hires prompt': 'a dog, running',
      'Hires upscale': '2.0',
      Version: 'f2.0.1v1.10.1-previous-669-gdfdcbab6',
    });
  });
});
