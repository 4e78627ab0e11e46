import { describe, expect, it } from 'vitest';

import { isForgeToolError } from '../../src/errors.js';
import {
  formatInfotext,
  infotextFloat,
  InfotextError,
  parseInfotext,
} from '../../src/forge/infotext.js';
import type { InfotextParameters, InfotextValue } from '../../src/forge/infotext.js';

const FORGE_VERSION = 'f2.0.1v1.10.1-previous-669-gdfdcbab6';

// forge-api.md §8.3, SD 1.5 through the API with steps=20, sampler "Euler a", cfg_scale=7.
const SD15_EXAMPLE = [
  'a cat',
  'Negative prompt: blurry',
  'Steps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7.0, Seed: 1234, ' +
    'Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, ' +
    `Version: ${FORGE_VERSION}`,
].join('\n');

// forge-api.md §8.3, Flux dev as seen in the wild (no prompt line at all).
const FLUX_EXAMPLE =
  'Steps: 20, Sampler: Euler, Schedule type: Simple, CFG scale: 1, Distilled CFG Scale: 3.5, ' +
  'Seed: 2961654875, Size: 720x1280, Model hash: cfd31fba80, Model: <stem>, ' +
  `Lora hashes: "a: 1ba60a4cff60, b: b75b64b701c4", Version: ${FORGE_VERSION}, ` +
  'Module 1: clip_l, Module 2: ae, Module 3: t5xxl_fp8_e4m3fn';

/** The parameter line of a one-key infotext, so quoting cases read as value -> written text. */
function formatOne(value: InfotextValue): string {
  return formatInfotext({ prompt: '', parameters: { Value: value } });
}

function expectInfotextError(run: () => unknown, messagePart: string): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(InfotextError);
  expect(isForgeToolError(thrown, 'FT_ERR_INFOTEXT_INVALID')).toBe(true);
  expect((thrown as Error).message).toContain(messagePart);
}

describe('formatInfotext', () => {
  it('writes the SD 1.5 example of forge-api.md §8.3 exactly, whatever the key order given', () => {
    const text = formatInfotext({
      prompt: 'a cat',
      negativePrompt: 'blurry',
      parameters: {
        Version: FORGE_VERSION,
        Model: 'v1-5-pruned-emaonly',
        Seed: 1234,
        'CFG scale': infotextFloat(7),
        Size: '512x512',
        Steps: 20,
        'Model hash': '6ce0161689',
        'Schedule type': 'Automatic',
        Sampler: 'Euler a',
      },
    });

    expect(text).toBe(SD15_EXAMPLE);
  });

  it('writes the Flux example of forge-api.md §8.3 exactly', () => {
    const text = formatInfotext({
      prompt: '',
      parameters: {
        'Module 2': 'ae',
        'Module 1': 'clip_l',
        'Module 3': 't5xxl_fp8_e4m3fn',
        Version: FORGE_VERSION,
        'Lora hashes': 'a: 1ba60a4cff60, b: b75b64b701c4',
        Steps: 20,
        Sampler: 'Euler',
        'Schedule type': 'Simple',
        'CFG scale': 1,
        'Distilled CFG Scale': 3.5,
        Seed: 2961654875,
        Size: '720x1280',
        'Model hash': 'cfd31fba80',
        Model: '<stem>',
      },
    });

    expect(text).toBe(FLUX_EXAMPLE);
  });

  it('puts unknown keys after the known ones in insertion order, before the trailing keys', () => {
    const text = formatInfotext({
      prompt: 'p',
      parameters: {
        'Module 10': 'm10',
        'Diffusion in Low Bits': 'bnb-nf4',
        'ADetailer model': 'face_yolov8n.pt',
        User: 'alice',
        'Hires Module 2': 'hm2',
        'Lora hashes': 'x: 0123456789ab',
        'Hires upscale': infotextFloat(2),
        'Module 2': 'm2',
        Version: 'v',
        'Extra thing': 'e',
        'Hires Module 1': 'hm1',
        Tiling: true,
        Steps: 4,
      },
    });

    expect(text).toBe(
      'p\nSteps: 4, Tiling: True, Hires Module 1: hm1, Hires Module 2: hm2, Hires upscale: 2.0, ' +
        'Lora hashes: "x: 0123456789ab", ADetailer model: face_yolov8n.pt, Extra thing: e, ' +
        'Version: v, User: alice, Diffusion in Low Bits: bnb-nf4, Module 2: m2, Module 10: m10',
    );
  });

  it('leaves out null and undefined values and the empty negative prompt line', () => {
    const text = formatInfotext({
      prompt: 'a dog',
      negativePrompt: '',
      parameters: { Steps: 20, 'Denoising strength': null, Seed: undefined, Sampler: 'Euler' },
    });

    expect(text).toBe('a dog\nSteps: 20, Sampler: Euler');
    expect(formatInfotext({ prompt: 'a', negativePrompt: null, parameters: {} })).toBe('a');
  });

  it('trims the whole text as Python strip() does, so an empty prompt leaves no blank line', () => {
    expect(formatInfotext({ prompt: '', parameters: { Steps: 1 } })).toBe('Steps: 1');
    expect(formatInfotext({ prompt: '', negativePrompt: 'n', parameters: { Steps: 1 } })).toBe(
      'Negative prompt: n\nSteps: 1',
    );
    // U+001F and U+0085 are white space to Python (not to String.prototype.trim), U+FEFF is not.
    expect(formatInfotext({ prompt: '\u001f\u0085 cat \u3000', parameters: {} })).toBe('cat');
    expect(formatInfotext({ prompt: '\ufeffcat', parameters: {} })).toBe('\ufeffcat');
  });

  it('keeps multi-line prompts verbatim', () => {
    const prompt = 'line one\n  indented line,\n\nafter a blank line ';
    const text = formatInfotext({ prompt, negativePrompt: 'bad\nworse', parameters: { Steps: 1 } });

    expect(text).toBe(`${prompt}\nNegative prompt: bad\nworse\nSteps: 1`);
  });

  it('writes a bare key when the value is the key itself, as Forge does', () => {
    expect(formatOne('Value')).toBe('Value');
  });

  it.each([
    ['a, b', '"a, b"'],
    ['ratio: 2', '"ratio: 2"'],
    ['line1\nline2', String.raw`"line1\nline2"`],
    ['crlf\r\nend', String.raw`"crlf\r\nend"`],
    ['say "hi"', 'say "hi"'],
    ['say "hi", ok', String.raw`"say \"hi\", ok"`],
    ['{"a": 1}', String.raw`"{\"a\": 1}"`],
    ['C:\\models\\x', String.raw`"C:\\models\\x"`],
    ['back\\slash', String.raw`back\slash`],
    ['猫, é', '"猫, é"'],
    ['é猫', 'é猫'],
    ['emoji 🐱: yes', '"emoji 🐱: yes"'],
    ['tab\there, x', String.raw`"tab\there, x"`],
    ['\u0001, x', String.raw`"\u0001, x"`],
    ['', ''],
  ])('quotes %j as Forge does: %s', (value, written) => {
    expect(formatOne(value)).toBe(`Value: ${written}`.trim());
  });

  it.each([
    [20, '20'],
    [-1, '-1'],
    [2961654875, '2961654875'],
    [2 ** 70, '1180591620717411303424'],
    [-0, '0'],
    [3.5, '3.5'],
    [0.1 + 0.2, '0.30000000000000004'],
    [infotextFloat(7), '7.0'],
    [infotextFloat(-0), '-0.0'],
    [infotextFloat(1e15), '1000000000000000.0'],
    [infotextFloat(1e16), '1e+16'],
    [infotextFloat(2 ** 53), '9007199254740992.0'],
    [infotextFloat(1234567.125), '1234567.125'],
    [infotextFloat(0.0001), '0.0001'],
    [infotextFloat(1e-5), '1e-05'],
    [infotextFloat(-2.5e-7), '-2.5e-07'],
    [infotextFloat(1.7976931348623157e308), '1.7976931348623157e+308'],
    [infotextFloat(Number.POSITIVE_INFINITY), 'inf'],
    [infotextFloat(Number.NEGATIVE_INFINITY), '-inf'],
    [infotextFloat(Number.NaN), 'nan'],
    [true, 'True'],
    [false, 'False'],
  ])('writes %o as Python str() does: %s', (value, written) => {
    expect(formatOne(value)).toBe(`Value: ${written}`);
  });

  it.each([
    ['Bad: key', 'Bad: key'],
    ['Bad, key', 'Bad, key'],
    ['Bad\nkey', 'Bad\\nkey'],
    ['Bad\rkey', 'Bad\\rkey'],
    ['', '""'],
    ['  ', '"  "'],
  ])('rejects the key %j with FT_ERR_INFOTEXT_INVALID', (key, shown) => {
    expectInfotextError(
      () => formatInfotext({ prompt: 'p', parameters: { Steps: 1, [key]: 'x' } }),
      shown,
    );
  });

  it('rejects a key even when its value is null', () => {
    expectInfotextError(
      () => formatInfotext({ prompt: 'p', parameters: { 'a:b': null } }),
      'must not contain',
    );
  });

  it('rejects values of other types, naming the key and what is allowed', () => {
    const wrongValues: unknown[] = [{ value: 1 }, ['a'], 10n, () => 1, { kind: 'float' }];
    for (const value of wrongValues) {
      const parameters = { Steps: 1, Odd: value } as InfotextParameters['parameters'];
      expectInfotextError(() => formatInfotext({ prompt: 'p', parameters }), '"Odd"');
    }
    expectInfotextError(
      () => formatInfotext({ prompt: 'p', parameters: { Odd: [] as unknown as string } }),
      'allowed: string, number, boolean, infotextFloat(n), null or undefined',
    );
  });

  it('rejects a prompt that is not a string and text with an unpaired surrogate', () => {
    expectInfotextError(
      () => formatInfotext({ prompt: 5 as unknown as string, parameters: {} }),
      'prompt must be a string, got number',
    );
    expectInfotextError(
      () => formatInfotext({ prompt: 'cat \ud83d', parameters: {} }),
      'prompt holds an unpaired UTF-16 surrogate',
    );
    expectInfotextError(() => formatOne('x\udc00, y'), 'parameter "Value" holds an unpaired');
    expectInfotextError(
      () => formatInfotext({ prompt: '', parameters: { 'Key\ud800': 1 } }),
      'parameter key holds an unpaired',
    );
  });

  it('accepts surrogate pairs', () => {
    expect(formatInfotext({ prompt: '🐱', parameters: {} })).toBe('🐱');
  });
});

describe('parseInfotext', () => {
  it('reads the SD 1.5 example of forge-api.md §8.3', () => {
    const parsed = parseInfotext(SD15_EXAMPLE);

    expect(parsed).toMatchObject({
      prompt: 'a cat',
      negativePrompt: 'blurry',
      steps: 20,
      sampler: 'Euler a',
      scheduleType: 'Automatic',
      cfgScale: 7,
      seed: 1234,
      width: 512,
      height: 512,
      model: 'v1-5-pruned-emaonly',
      modelHash: '6ce0161689',
      version: FORGE_VERSION,
      denoisingStrength: undefined,
      modules: [],
    });
    expect(Object.entries(parsed.parameters)).toEqual([
      ['Steps', '20'],
      ['Sampler', 'Euler a'],
      ['Schedule type', 'Automatic'],
      ['CFG scale', '7.0'],
      ['Seed', '1234'],
      ['Size', '512x512'],
      ['Model hash', '6ce0161689'],
      ['Model', 'v1-5-pruned-emaonly'],
      ['Version', FORGE_VERSION],
    ]);
    expect({ ...parsed.loraHashes }).toEqual({});
  });

  it('reads the Flux example of forge-api.md §8.3', () => {
    const parsed = parseInfotext(FLUX_EXAMPLE);

    expect(parsed).toMatchObject({
      prompt: '',
      negativePrompt: '',
      cfgScale: 1,
      distilledCfgScale: 3.5,
      seed: 2961654875,
      width: 720,
      height: 1280,
      model: '<stem>',
      modules: ['clip_l', 'ae', 't5xxl_fp8_e4m3fn'],
      version: FORGE_VERSION,
    });
    expect(parsed.parameters['Lora hashes']).toBe('a: 1ba60a4cff60, b: b75b64b701c4');
    expect({ ...parsed.loraHashes }).toEqual({ a: '1ba60a4cff60', b: 'b75b64b701c4' });
  });

  it('reads an AUTOMATIC1111 infotext with hires and denoising', () => {
    const text = [
      'masterpiece, 1girl, (detailed:1.2)',
      'Negative prompt: lowres, bad anatomy',
      'Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 42, Size: 512x768, ' +
        'Model hash: 7f96a1a9ca, Model: anything-v5, Denoising strength: 0.45, Clip skip: 2, ' +
        'Hires upscale: 2, Hires steps: 12, Hires upscaler: Latent, Version: v1.6.0',
    ].join('\n');

    expect(parseInfotext(text)).toMatchObject({
      prompt: 'masterpiece, 1girl, (detailed:1.2)',
      negativePrompt: 'lowres, bad anatomy',
      steps: 28,
      sampler: 'DPM++ 2M Karras',
      scheduleType: undefined,
      cfgScale: 6.5,
      width: 512,
      height: 768,
      denoisingStrength: 0.45,
      parameters: { 'Clip skip': '2', 'Hires upscaler': 'Latent', Version: 'v1.6.0' },
    });
  });

  it('reads an infotext without a negative prompt', () => {
    const parsed = parseInfotext('a red fox\nSteps: 8, Sampler: Euler, CFG scale: 1.0');

    expect(parsed).toMatchObject({ prompt: 'a red fox', negativePrompt: '', steps: 8 });
  });

  it('treats the whole text as prompt when there is no parameter line', () => {
    const parsed = parseInfotext('  just a prompt\nNegative prompt: ugly  ');

    expect(parsed).toMatchObject({ prompt: 'just a prompt', negativePrompt: 'ugly' });
    expect(Object.keys(parsed.parameters)).toEqual([]);
    expect(parseInfotext('')).toMatchObject({ prompt: '', negativePrompt: '', steps: undefined });
  });

  it('needs three key: value pairs on the last line, as Forge does', () => {
    const twoPairs = parseInfotext('a cat\nSteps: 20, Sampler: Euler');
    const threePairs = parseInfotext('a cat\nSteps: 20, Sampler: Euler, Seed: 1');

    expect(twoPairs).toMatchObject({
      prompt: 'a cat\nSteps: 20, Sampler: Euler',
      steps: undefined,
    });
    expect(threePairs).toMatchObject({ prompt: 'a cat', steps: 20, seed: 1 });
  });

  it('splits on a Negative prompt: line only when the line starts with it', () => {
    const text =
      'draw "Negative prompt: none" on a sign\nNegative prompt: x\nSteps: 1, Seed: 2, Size: 3x4';
    expect(parseInfotext(text)).toMatchObject({
      prompt: 'draw "Negative prompt: none" on a sign',
      negativePrompt: 'x',
    });

    const indented = parseInfotext('p\n   Negative prompt:n\nSteps: 1, Seed: 2, Size: 3x4');
    expect(indented).toMatchObject({ prompt: 'p', negativePrompt: 'n' });
  });

  it('keeps multi-line prompts and negative prompts verbatim', () => {
    const text =
      'line one\n  indented,\n\nlast \nNegative prompt:  two spaces\n\n  more\nSteps: 1, Seed: 2, Size: 3x4';

    expect(parseInfotext(text)).toMatchObject({
      prompt: 'line one\n  indented,\n\nlast ',
      negativePrompt: ' two spaces\n\n  more',
    });
  });

  // A one-letter key such as `K` is not read: Forge's pattern needs two characters.
  it('decodes quoted values and keeps text that is not valid JSON as written', () => {
    const text = String.raw`p
Ka: "x, \"y\"\n\u00e9", Kb: "unterminated, Kc: "a" b, Kd: "", Ke: "ok", K: 1`;

    expect({ ...parseInfotext(text).parameters }).toEqual({
      Ka: 'x, "y"\né',
      Kb: '"unterminated',
      Kc: '"a" b',
      Kd: '',
      Ke: 'ok',
    });
  });

  it('keeps the first position and the last value of a repeated key', () => {
    const parsed = parseInfotext('p\nSteps: 1, Seed: 2, Steps: 3, Size: 4x5');

    expect(Object.entries(parsed.parameters)).toEqual([
      ['Steps', '3'],
      ['Seed', '2'],
      ['Size', '4x5'],
    ]);
  });

  it('reads keys with Unicode letters, hyphens and slashes, and keys that shadow Object members', () => {
    const parsed = parseInfotext(
      'p\nÉchantillonneur: Euler, Hypertile U-Net: True, A/B: 1, __proto__: x, constructor: y',
    );

    expect(Object.keys(parsed.parameters)).toEqual([
      'Échantillonneur',
      'Hypertile U-Net',
      'A/B',
      '__proto__',
      'constructor',
    ]);
    expect(parsed.parameters['__proto__']).toBe('x');
    expect(parsed.parameters['toString']).toBeUndefined();
  });

  it('leaves typed helpers undefined when a value is malformed', () => {
    const parsed = parseInfotext(
      'p\nSteps: many, CFG scale: 7.0.1, Seed: 99999999999999999999, Size: 512 by 512, Denoising strength: .5',
    );

    expect(parsed).toMatchObject({
      steps: undefined,
      cfgScale: undefined,
      seed: undefined,
      width: undefined,
      height: undefined,
      denoisingStrength: 0.5,
    });
    expect(parsed.parameters['Steps']).toBe('many');
  });

  it('reads Lora hashes leniently and sorts modules by number', () => {
    const parsed = parseInfotext(
      'p\nLora hashes: "a: 111, broken, : 222, c:333 ", Module 10: ten, Module 2: two, Steps: 1',
    );

    expect({ ...parsed.loraHashes }).toEqual({ a: '111', c: '333' });
    expect(parsed.modules).toEqual(['two', 'ten']);
  });

  it('rejects input that is not a string', () => {
    expectInfotextError(
      () => parseInfotext(undefined as unknown as string),
      'text must be a string',
    );
  });
});

/** A small seeded generator (mulberry32), so every run checks the same cases. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const TEXT_PIECES = [
  'cat',
  'é',
  '猫',
  '🐱',
  ' ',
  ',',
  ':',
  '\n',
  '"',
  '\\',
  '\t',
  '\r',
  '{',
  '}',
  '=',
  '(x:1.2)',
  'Negative prompt:',
];
const KEYS = [
  'Steps',
  'Sampler',
  'Schedule type',
  'CFG scale',
  'Distilled CFG Scale',
  'Seed',
  'Size',
  'Model',
  'Model hash',
  'Denoising strength',
  'Clip skip',
  'Hires Module 1',
  'Hires upscale',
  'Lora hashes',
  'ADetailer model',
  'Hypertile U-Net',
  'Script/extra',
  'Clé spéciale',
  'x_y',
  'Version',
  'User',
  'Diffusion in Low Bits',
  'Module 1',
  'Module 2',
  'Module 12',
];
/** Floats with the text Python's str() gives them (checked against CPython 3.11). */
const FLOATS: ReadonlyArray<readonly [number, string]> = [
  [7, '7.0'],
  [3.5, '3.5'],
  [0.30000000000000004, '0.30000000000000004'],
  [1e16, '1e+16'],
  [1e-5, '1e-05'],
  [-0, '-0.0'],
  [1234567.125, '1234567.125'],
  [2 ** 53, '9007199254740992.0'],
];

interface GeneratedCase {
  infotext: InfotextParameters;
  expected: Record<string, string>;
}

function generateText(random: () => number, maxPieces: number): string {
  const count = Math.floor(random() * (maxPieces + 1));
  return Array.from(
    { length: count },
    () => TEXT_PIECES[Math.floor(random() * TEXT_PIECES.length)],
  ).join('');
}

/**
 * A value that reads back unchanged: unquoted text loses leading white space to the parser and a
 * value wrapped in double quotes is decoded, so those shapes are mended here.
 */
function generateValue(random: () => number): { value: InfotextValue; text: string } {
  const pick = random();
  if (pick < 0.15) return { value: random() < 0.5, text: '' };
  if (pick < 0.3) {
    const integer = Math.floor((random() - 0.5) * 2 ** 40);
    return { value: integer, text: String(integer) };
  }
  if (pick < 0.45) {
    const [number, text] = FLOATS[Math.floor(random() * FLOATS.length)] ?? [1, '1.0'];
    return { value: infotextFloat(number), text };
  }
  let text = generateText(random, 6);
  if (!/[,:\n]/.test(text)) text = `v${text.trim()}v`;
  return { value: text, text };
}

function generateCase(random: () => number): GeneratedCase {
  const parameters: Record<string, InfotextValue> = {};
  const expected: Record<string, string> = {};
  const keys = KEYS.filter(() => random() < 0.4);
  // At least three pairs, or the parameter line would read back as prompt.
  for (const key of ['Steps', 'Seed', 'Size']) if (!keys.includes(key)) keys.push(key);

  for (const key of keys) {
    const { value, text } = generateValue(random);
    parameters[key] = value;
    expected[key] = typeof value === 'boolean' ? (value ? 'True' : 'False') : text;
  }
  const prompt = `a${generateText(random, 8).replace(/\n(?=\s*Negative prompt:)/g, '\nx')}`;
  const negativePrompt = random() < 0.3 ? '' : generateText(random, 8);
  return { infotext: { prompt, negativePrompt, parameters }, expected };
}

describe('formatInfotext and parseInfotext together', () => {
  it('read back every generated parameter set unchanged', () => {
    const random = createRandom(20_250_626);

    for (let index = 0; index < 400; index += 1) {
      const { infotext, expected } = generateCase(random);
      const text = formatInfotext(infotext);
      const parsed = parseInfotext(text);

      expect(parsed.prompt, text).toBe(infotext.prompt);
      expect(parsed.negativePrompt, text).toBe(infotext.negativePrompt);
      expect({ ...parsed.parameters }, text).toEqual(expected);
      // Parsed values written again give the same text: order and quoting are stable.
      const { prompt, negativePrompt, parameters } = parsed;
      const again = formatInfotext({ prompt, negativePrompt, parameters });
      expect(again, text).toBe(text);
    }
  });
});
