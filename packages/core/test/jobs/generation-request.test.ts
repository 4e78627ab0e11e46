// The generation request schema: defaults, one test per rule, kind inference, unknown keys.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  DEFAULT_REQUEST_LIMITS,
  GenerationRequestSchema,
  createGenerationRequestSchema,
  hiresOutputSize,
  parseGenerationRequest,
  type GenerationRequestInput,
  type RequestLimits,
} from '../../src/jobs/generation-request.js';
import { RequestError, type RequestIssue } from '../../src/jobs/request-error.js';

const PNG_BASE64 = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').toString('base64');
const JOB_ID = 'job_01JF3Q6Z8D5KX0W2R9B7C4M1TA';

/** Parses `input`, expects a RequestError, and returns its issues. */
function issuesOf(input: unknown, limits?: RequestLimits): RequestIssue[] {
  try {
    parseGenerationRequest(input, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(RequestError);
    const requestError = error as RequestError;
    expect(requestError.code).toBe('FT_ERR_REQUEST_INVALID');
    expect(requestError.statusCode).toBe(400);
    return [...requestError.issues];
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

/** The one issue for `field`, which must be the only field with a problem. */
function onlyIssue(input: unknown, field: string, limits?: RequestLimits): string {
  const issues = issuesOf(input, limits);
  expect(issues.map((issue) => issue.field)).toEqual([field]);
  return issues[0]?.message ?? '';
}

function withPrompt(fields: Record<string, unknown>): Record<string, unknown> {
  return { prompt: 'a lighthouse at dusk', ...fields };
}

describe('defaults', () => {
  it('fills every default of a txt2img request', () => {
    expect(parseGenerationRequest({ prompt: 'a lighthouse' })).toEqual({
      kind: 'txt2img',
      prompt: 'a lighthouse',
      negative_prompt: '',
      width: 1024,
      height: 1024,
      steps: 20,
      cfg_scale: 7,
      seed: -1,
      sampler: null,
      scheduler: null,
      batch_size: 1,
      n_iter: 1,
      checkpoint: null,
      styles: [],
      wildcards: { enabled: true, max_depth: 10 },
      priority: 0,
      owner: { id: 'anonymous', source: 'api' },
    });
  });

  it('fills the hires block when it is present', () => {
    const request = parseGenerationRequest(withPrompt({ hires: {} }));
    expect(request.hires).toEqual({
      enabled: true,
      scale: 2,
      upscaler: 'Latent',
      steps: 0,
      denoising_strength: 0.5,
    });
  });

  it('gives img2img a denoising strength of 0.75 and keeps a given one', () => {
    expect(parseGenerationRequest(withPrompt({ init_image: PNG_BASE64 })).denoising_strength).toBe(
      0.75,
    );
    const given = parseGenerationRequest(
      withPrompt({ init_image: PNG_BASE64, denoising_strength: 0.3 }),
    );
    expect(given.denoising_strength).toBe(0.3);
  });

  it('fills the upscale block and needs no prompt', () => {
    const request = parseGenerationRequest({
      upscale: { source: { job_id: JOB_ID, index: 1 }, upscaler: 'R-ESRGAN 4x+' },
    });
    expect(request.kind).toBe('upscale');
    expect(request.prompt).toBe('');
    expect(request.upscale).toEqual({
      source: { job_id: JOB_ID, index: 1 },
      upscaler: 'R-ESRGAN 4x+',
      scale: 2,
    });
  });

  it('lowers defaults that a lower limit would break', () => {
    const limits = { maxSide: 512, maxSteps: 10, maxWildcardDepth: 4 };
    const request = parseGenerationRequest({ prompt: 'x' }, limits);
    expect([request.width, request.height, request.steps]).toEqual([512, 512, 10]);
    expect(request.wildcards.max_depth).toBe(4);
  });

  it('keeps the integration guide example as sent', () => {
    const input: GenerationRequestInput = {
      prompt: 'a beautiful landscape',
      negative_prompt: 'blurry, low quality',
      width: 1024,
      height: 1024,
      steps: 20,
      cfg_scale: 7.5,
      seed: 42,
      wildcards: { enabled: true, max_depth: 2 },
    };
    expect(parseGenerationRequest(input)).toMatchObject(input);
  });
});

describe('kind inference', () => {
  it('infers txt2img, img2img and upscale from the fields', () => {
    expect(parseGenerationRequest({ prompt: 'x' }).kind).toBe('txt2img');
    expect(parseGenerationRequest({ prompt: 'x', init_image: PNG_BASE64 }).kind).toBe('img2img');
    const upscale = { source: { image: PNG_BASE64 }, upscaler: 'Lanczos' };
    expect(parseGenerationRequest({ upscale }).kind).toBe('upscale');
  });

  it('keeps an explicit kind and checks the fields against it', () => {
    expect(onlyIssue({ kind: 'img2img', prompt: 'x' }, 'init_image')).toMatch(
      /^is required for img2img jobs/,
    );
    expect(onlyIssue({ kind: 'upscale' }, 'upscale')).toMatch(/^is required for upscale jobs/);
    expect(onlyIssue({ kind: 'txt2img', prompt: 'x', init_image: PNG_BASE64 }, 'init_image')).toBe(
      'is only for img2img jobs, and this is a txt2img job',
    );
  });

  it('rejects fields that belong to another kind', () => {
    const img2img = { prompt: 'x', init_image: PNG_BASE64 };
    expect(onlyIssue({ ...img2img, hires: {} }, 'hires')).toBe(
      'is only for txt2img jobs, and this is a img2img job',
    );
    expect(onlyIssue(withPrompt({ mask: PNG_BASE64 }), 'mask')).toMatch(/only for img2img/);
    expect(onlyIssue(withPrompt({ resize_mode: 1 }), 'resize_mode')).toMatch(/only for img2img/);
    expect(onlyIssue(withPrompt({ denoising_strength: 0.5 }), 'denoising_strength')).toMatch(
      /only for img2img/,
    );
    const upscale = { source: { image: PNG_BASE64 }, upscaler: 'Lanczos' };
    expect(onlyIssue({ kind: 'txt2img', prompt: 'x', upscale }, 'upscale')).toMatch(
      /only for upscale jobs/,
    );
  });
});

describe('field rules', () => {
  it('requires a prompt for txt2img and img2img, trimmed, within the length limit', () => {
    expect(onlyIssue({}, 'prompt')).toBe(
      'is required for txt2img jobs: a string of 1 to 4000 characters',
    );
    expect(onlyIssue({ prompt: '   ' }, 'prompt')).toBe(
      'must be a string of 1 to 4000 characters after trimming, got an empty string',
    );
    expect(onlyIssue({ prompt: 'x'.repeat(4001) }, 'prompt')).toBe(
      'must be a string of 1 to 4000 characters after trimming, got 4001 characters',
    );
    expect(onlyIssue({ prompt: 'abcd' }, 'prompt', { maxPromptLength: 3 })).toMatch(/1 to 3/);
    expect(parseGenerationRequest({ prompt: '  a cat \n' }).prompt).toBe('a cat');
  });

  it('limits the negative prompt to the prompt length', () => {
    expect(onlyIssue(withPrompt({ negative_prompt: 'x'.repeat(4001) }), 'negative_prompt')).toMatch(
      /0 to 4000 characters after trimming, got 4001 characters/,
    );
  });

  it('wants width and height as multiples of 8 from 64 to the largest side', () => {
    expect(onlyIssue(withPrompt({ width: 1001 }), 'width')).toBe(
      'must be a multiple of 8 from 64 to 2048, got 1001',
    );
    expect(onlyIssue(withPrompt({ height: 2056 }), 'height')).toBe(
      'must be a multiple of 8 from 64 to 2048, got 2056',
    );
    expect(onlyIssue(withPrompt({ width: 56 }), 'width')).toMatch(/got 56$/);
    expect(onlyIssue(withPrompt({ width: '512' }), 'width')).toMatch(/got "512"$/);
    expect(onlyIssue(withPrompt({ width: 1024 }), 'width', { maxSide: 768 })).toBe(
      'must be a multiple of 8 from 64 to 768, got 1024',
    );
  });

  it('bounds steps, cfg_scale and distilled_cfg_scale', () => {
    expect(onlyIssue(withPrompt({ steps: 151 }), 'steps')).toBe(
      'must be an integer from 1 to 150, got 151',
    );
    expect(onlyIssue(withPrompt({ steps: 0 }), 'steps')).toMatch(/got 0$/);
    expect(onlyIssue(withPrompt({ steps: 20.5 }), 'steps')).toMatch(/got 20.5$/);
    expect(onlyIssue(withPrompt({ cfg_scale: 31 }), 'cfg_scale')).toBe(
      'must be a number from 1 to 30, got 31',
    );
    expect(onlyIssue(withPrompt({ distilled_cfg_scale: -1 }), 'distilled_cfg_scale')).toBe(
      'must be a number from 0 to 30, got -1',
    );
  });

  it('takes -1 or a 32-bit unsigned seed', () => {
    const rule = 'must be -1 (random) or an integer from 0 to 4294967295';
    expect(onlyIssue(withPrompt({ seed: -2 }), 'seed')).toBe(`${rule}, got -2`);
    expect(onlyIssue(withPrompt({ seed: 4_294_967_296 }), 'seed')).toBe(`${rule}, got 4294967296`);
    expect(onlyIssue(withPrompt({ seed: 1.5 }), 'seed')).toBe(`${rule}, got 1.5`);
    expect(parseGenerationRequest(withPrompt({ seed: 4_294_967_295 })).seed).toBe(4_294_967_295);
  });

  it('bounds batch_size, and batch_size × n_iter by the images per job', () => {
    expect(onlyIssue(withPrompt({ batch_size: 9 }), 'batch_size')).toBe(
      'must be an integer from 1 to 8, got 9',
    );
    expect(onlyIssue(withPrompt({ batch_size: 4, n_iter: 5 }), 'n_iter')).toBe(
      'with batch_size, must make at most 16 images per job (batch_size × n_iter), got 4 × 5 = 20',
    );
    expect(parseGenerationRequest(withPrompt({ batch_size: 4, n_iter: 4 })).n_iter).toBe(4);
  });

  it('takes names or null for sampler, scheduler and checkpoint', () => {
    const request = parseGenerationRequest(
      withPrompt({ sampler: 'Euler a', scheduler: null, checkpoint: 'flux1-dev' }),
    );
    expect([request.sampler, request.scheduler, request.checkpoint]).toEqual([
      'Euler a',
      null,
      'flux1-dev',
    ]);
    expect(onlyIssue(withPrompt({ sampler: '' }), 'sampler')).toBe(
      'must be a name of 1 to 300 characters, got an empty string',
    );
    expect(onlyIssue(withPrompt({ checkpoint: 3 }), 'checkpoint')).toMatch(/got 3$/);
  });

  it('checks list entries one by one, naming the index', () => {
    expect(onlyIssue(withPrompt({ styles: ['ok', ''] }), 'styles[1]')).toMatch(/a name/);
    expect(onlyIssue(withPrompt({ modules: 'ae' }), 'modules')).toBe(
      'must be a list of at most 16 names, got "ae"',
    );
    const many = Array.from({ length: 17 }, (_, index) => `tag${index}`);
    expect(onlyIssue(withPrompt({ backend_tags: many }), 'backend_tags')).toBe(
      'must be a list of at most 16 names, got a list of 17',
    );
  });

  it('bounds clip_skip, priority, timeout_ms and resize_mode', () => {
    expect(onlyIssue(withPrompt({ clip_skip: 13 }), 'clip_skip')).toBe(
      'must be an integer from 1 to 12, got 13',
    );
    expect(onlyIssue(withPrompt({ priority: 11 }), 'priority')).toBe(
      'must be an integer from -10 to 10, got 11',
    );
    expect(onlyIssue(withPrompt({ timeout_ms: 999 }), 'timeout_ms')).toBe(
      'must be an integer from 1000 to 86400000, got 999',
    );
    const img2img = withPrompt({ init_image: PNG_BASE64, resize_mode: 4 });
    expect(onlyIssue(img2img, 'resize_mode')).toBe('must be an integer from 0 to 3, got 4');
  });

  it('checks the hires block and the size it makes', () => {
    expect(onlyIssue(withPrompt({ hires: { scale: 5 } }), 'hires.scale')).toBe(
      'must be a number from 1 to 4, got 5',
    );
    expect(
      onlyIssue(withPrompt({ hires: { denoising_strength: 2 } }), 'hires.denoising_strength'),
    ).toBe('must be a number from 0 to 1, got 2');
    expect(onlyIssue(withPrompt({ hires: { scale: 2.5 } }), 'hires.scale')).toBe(
      'makes 2560x2560, larger than 2048 on a side; scale must be at most 2 for 1024x1024',
    );
    const resize = withPrompt({ width: 512, height: 1024, hires: { resize_x: 1536 } });
    expect(onlyIssue(resize, 'hires.resize_x')).toMatch(/makes 1536x3072, larger than 2048/);
    expect(
      parseGenerationRequest(withPrompt({ hires: { enabled: false, scale: 4 } })).hires,
    ).toEqual(expect.objectContaining({ enabled: false, scale: 4 }));
  });

  it('computes the hires output size the way Forge does', () => {
    expect(hiresOutputSize(832, 1216, { scale: 1.5 })).toEqual({ width: 1248, height: 1824 });
    expect(hiresOutputSize(512, 768, { scale: 2, resize_x: 1024 })).toEqual({
      width: 1024,
      height: 1536,
    });
    expect(hiresOutputSize(512, 768, { scale: 2, resize_y: 1000 })).toEqual({
      width: 666,
      height: 1000,
    });
  });

  it('takes init_image and mask as base64, a data URL, or a job image reference', () => {
    for (const image of [
      PNG_BASE64,
      `data:image/png;base64,${PNG_BASE64}`,
      { job_id: JOB_ID, index: 0 },
    ]) {
      expect(
        parseGenerationRequest(withPrompt({ init_image: image, mask: image })).init_image,
      ).toEqual(image);
    }
    expect(onlyIssue(withPrompt({ init_image: 'not base64!' }), 'init_image')).toBe(
      'must be base64 image data (a data: URL is allowed), got "not base64!"',
    );
    expect(
      onlyIssue(withPrompt({ init_image: { job_id: 'job_1', index: 0 } }), 'init_image.job_id'),
    ).toBe('must be a job id (job_ and 26 characters), got "job_1"');
    expect(onlyIssue(withPrompt({ init_image: 7 }), 'init_image')).toBe(
      "must be base64 image data or an earlier job's image { job_id, index }, got 7",
    );
  });

  it('checks the upscale block', () => {
    const source = { job_id: JOB_ID, index: 0 };
    expect(onlyIssue({ upscale: { source } }, 'upscale.upscaler')).toBe(
      'must be a name of 1 to 300 characters, got nothing',
    );
    expect(onlyIssue({ upscale: { source, upscaler: 'x', scale: 9 } }, 'upscale.scale')).toBe(
      'must be a number from 1 to 8, got 9',
    );
    const visibility = { source, upscaler: 'x', upscaler_2_visibility: 1.5 };
    expect(onlyIssue({ upscale: visibility }, 'upscale.upscaler_2_visibility')).toMatch(/0 to 1/);
    expect(onlyIssue({ upscale: { source: 'abc', upscaler: 'x' } }, 'upscale.source')).toBe(
      'must be an earlier job\'s image { job_id, index } or { image: base64 }, got "abc"',
    );
  });

  it('bounds wildcards.max_depth by the limit', () => {
    expect(onlyIssue(withPrompt({ wildcards: { max_depth: 21 } }), 'wildcards.max_depth')).toBe(
      'must be an integer from 1 to 20, got 21',
    );
    expect(onlyIssue(withPrompt({ wildcards: { enabled: 'yes' } }), 'wildcards.enabled')).toBe(
      'must be true or false, got "yes"',
    );
  });

  it('fills and checks the owner', () => {
    expect(parseGenerationRequest(withPrompt({ owner: { id: 'u1' } })).owner).toEqual({
      id: 'u1',
      source: 'api',
    });
    expect(onlyIssue(withPrompt({ owner: { source: 'irc' } }), 'owner.source')).toBe(
      "must be one of 'api', 'discord', 'slack', 'vscode', 'web', got \"irc\"",
    );
  });

  it('takes only http(s) webhook URLs', () => {
    expect(
      parseGenerationRequest(withPrompt({ webhook_url: 'https://x.test/hook' })).webhook_url,
    ).toBe('https://x.test/hook');
    expect(onlyIssue(withPrompt({ webhook_url: 'ftp://x.test/' }), 'webhook_url')).toBe(
      'must be an http or https URL, got "ftp://x.test/"',
    );
    expect(onlyIssue(withPrompt({ webhook_url: 'not a url' }), 'webhook_url')).toMatch(/http/);
  });

  it('bounds the idempotency key', () => {
    expect(onlyIssue(withPrompt({ idempotency_key: '' }), 'idempotency_key')).toBe(
      'must be a string of 1 to 200 characters, got an empty string',
    );
    expect(onlyIssue(withPrompt({ idempotency_key: 'k'.repeat(201) }), 'idempotency_key')).toMatch(
      /got 201 characters/,
    );
  });

  it('takes metadata as a JSON object within the size limit', () => {
    const metadata = { channel: 'c1', tags: ['a', 1, null, { nested: true }] };
    expect(parseGenerationRequest(withPrompt({ metadata })).metadata).toEqual(metadata);
    expect(onlyIssue(withPrompt({ metadata: [1, 2] }), 'metadata')).toBe(
      'must be a JSON object, got a list of 2',
    );
    expect(
      onlyIssue(withPrompt({ metadata: { big: 'x'.repeat(100) } }), 'metadata', {
        maxMetadataBytes: 64,
      }),
    ).toBe('must be at most 64 bytes as JSON, got 110');
    expect(onlyIssue(withPrompt({ metadata: { at: [1, new Date(0)] } }), 'metadata.at[1]')).toMatch(
      /only JSON values/,
    );
  });
});

describe('error reporting', () => {
  it('names every violated field, with its range, in one message', () => {
    let caught: unknown;
    try {
      parseGenerationRequest({ width: 1001, height: 'tall', steps: 200, hires: { scale: 0 } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RequestError);
    const error = caught as RequestError;
    expect(error.issues.map((issue) => issue.field)).toEqual([
      'width',
      'height',
      'steps',
      'hires.scale',
      'prompt',
    ]);
    expect(error.message).toContain('width: must be a multiple of 8 from 64 to 2048, got 1001');
    expect(error.message).toContain('height: must be a multiple of 8 from 64 to 2048, got "tall"');
    expect(error.message).toContain('steps: must be an integer from 1 to 150, got 200');
    expect(error.message).toContain('prompt: is required for txt2img jobs');
    expect(error.toJSON()).toMatchObject({ code: 'FT_ERR_REQUEST_INVALID', issues: error.issues });
  });

  it('rejects unknown keys by name, suggesting the intended field', () => {
    expect(onlyIssue(withPrompt({ sampler_name: 'Euler' }), 'sampler_name')).toBe(
      'is not a request field; did you mean sampler?',
    );
    expect(onlyIssue(withPrompt({ negativ_prompt: 'x' }), 'negativ_prompt')).toBe(
      'is not a request field; did you mean negative_prompt?',
    );
    expect(onlyIssue(withPrompt({ zzzzzz: 1 }), 'zzzzzz')).toBe(
      'is not a known field (see docs/requests.md)',
    );
    expect(onlyIssue(withPrompt({ hires: { sclae: 2 } }), 'hires.sclae')).toMatch(
      /^is not a known field \(allowed: enabled, scale, upscaler/,
    );
  });

  it('rejects what is not an object', () => {
    for (const input of [null, 'prompt', 42, [], undefined]) {
      expect(onlyIssue(input, 'request')).toBe('must be a JSON object of request fields');
    }
  });
});

describe('limits', () => {
  it('declares the documented defaults', () => {
    expect(DEFAULT_REQUEST_LIMITS).toEqual({
      maxSide: 2048,
      maxSteps: 150,
      maxBatchSize: 8,
      maxImagesPerJob: 16,
      maxPromptLength: 4000,
      maxWildcardDepth: 20,
      maxMetadataBytes: 16_384,
    });
  });

  it('rejects limits that are not positive integers, or a side off the 8-pixel grid', () => {
    expect(() => createGenerationRequestSchema({ maxSteps: 0 })).toThrow(ConfigError);
    expect(() => createGenerationRequestSchema({ maxSteps: 1.5 })).toThrow(/limits.maxSteps/);
    expect(() => createGenerationRequestSchema({ maxSide: 1000 + 4 })).toThrow(/limits.maxSide/);
    const unknown = { maxWidth: 5 } as unknown as RequestLimits;
    expect(() => createGenerationRequestSchema(unknown)).toThrow(/limits.maxWidth is not/);
  });

  it('uses the same rules through the exported schema', () => {
    expect(GenerationRequestSchema.safeParse({ prompt: 'x', steps: 151 }).success).toBe(false);
    expect(GenerationRequestSchema.parse({ prompt: 'x' }).steps).toBe(20);
  });
});
