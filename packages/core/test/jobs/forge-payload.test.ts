// The Forge payload builder: field mapping checked against Forge's request schemas, and the
// built calls run against the simulator.
import { startForgeSim, type ForgeSim } from '@forge-tool/forge-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForgeClient } from '../../src/forge/forge-client.js';
import {
  ExtraSingleImageRequestSchema,
  Img2ImgRequestSchema,
  Txt2ImgRequestSchema,
} from '../../src/forge/generation-schemas.js';
import { buildForgeCall, type ForgeCall } from '../../src/jobs/forge-payload.js';
import {
  parseGenerationRequest,
  type ResolvedGenerationRequest,
} from '../../src/jobs/generation-request.js';
import { pngSize } from '../forge/helpers.js';

const JOB_ID = 'job_01JF3Q6Z8D5KX0W2R9B7C4M1TA';
const TINY = Buffer.from('89504e470d0a1a0a', 'hex');

function resolve(input: Record<string, unknown>, seed = 1234): ResolvedGenerationRequest {
  return { ...parseGenerationRequest(input), seed, wildcard_trace: null };
}

function bodyOf(call: ForgeCall): Record<string, unknown> {
  return call.body as Record<string, unknown>;
}

describe('buildForgeCall: txt2img', () => {
  it('maps the request fields to Forge names, with safe API flags', () => {
    const call = buildForgeCall(
      resolve({
        prompt: 'a red fox',
        negative_prompt: 'blurry',
        width: 832,
        height: 1216,
        steps: 28,
        cfg_scale: 4.5,
        sampler: 'Euler a',
        scheduler: 'karras',
        batch_size: 2,
        n_iter: 3,
        styles: ['Cinematic'],
      }),
    );
    expect(call.endpoint).toBe('txt2img');
    expect(call.body).toEqual({
      prompt: 'a red fox',
      negative_prompt: 'blurry',
      styles: ['Cinematic'],
      seed: 1234,
      sampler_name: 'Euler a',
      scheduler: 'karras',
      batch_size: 2,
      n_iter: 3,
      steps: 28,
      cfg_scale: 4.5,
      width: 832,
      height: 1216,
      override_settings_restore_afterwards: true,
      send_images: true,
      save_images: false,
    });
    expect(() => Txt2ImgRequestSchema.parse(call.body)).not.toThrow();
  });

  it('leaves sampler and scheduler to the backend when they are null', () => {
    const body = bodyOf(buildForgeCall(resolve({ prompt: 'x' })));
    expect(body).not.toHaveProperty('sampler_name');
    expect(body).not.toHaveProperty('scheduler');
    expect(body).not.toHaveProperty('override_settings');
  });

  it('puts checkpoint, modules and clip skip into per-job override settings', () => {
    const body = bodyOf(
      buildForgeCall(
        resolve({
          prompt: 'x',
          checkpoint: 'flux1-dev [abc]',
          modules: ['/m/ae.safetensors'],
          clip_skip: 2,
          distilled_cfg_scale: 3.5,
        }),
      ),
    );
    expect(body['override_settings']).toEqual({
      sd_model_checkpoint: 'flux1-dev [abc]',
      forge_additional_modules: ['/m/ae.safetensors'],
      CLIP_stop_at_last_layers: 2,
    });
    expect(body['override_settings_restore_afterwards']).toBe(true);
    expect(body['distilled_cfg_scale']).toBe(3.5);
  });

  it('maps hires fix with the fields Forge needs to run it right', () => {
    const body = bodyOf(
      buildForgeCall(
        resolve({
          prompt: 'x',
          width: 512,
          height: 512,
          cfg_scale: 6,
          hires: { scale: 1.5, upscaler: 'R-ESRGAN 4x+', steps: 10, denoising_strength: 0.4 },
        }),
      ),
    );
    expect(body).toMatchObject({
      enable_hr: true,
      hr_scale: 1.5,
      hr_upscaler: 'R-ESRGAN 4x+',
      hr_second_pass_steps: 10,
      denoising_strength: 0.4,
      hr_cfg: 6,
      hr_additional_modules: ['Use same choices'],
    });
    expect(body).not.toHaveProperty('hr_resize_x');
    const resized = bodyOf(
      buildForgeCall(
        resolve({ prompt: 'x', hires: { resize_x: 1024, resize_y: 768, cfg_scale: 3 } }),
      ),
    );
    expect(resized).toMatchObject({ hr_resize_x: 1024, hr_resize_y: 768, hr_cfg: 3 });
    expect(() => Txt2ImgRequestSchema.parse(resized)).not.toThrow();
  });

  it('sends no hires fields when the block is disabled', () => {
    const body = bodyOf(buildForgeCall(resolve({ prompt: 'x', hires: { enabled: false } })));
    expect(Object.keys(body).filter((key) => key.startsWith('hr_') || key === 'enable_hr')).toEqual(
      [],
    );
  });

  it('uses the resolved prompt and seed, not the submitted ones', () => {
    const resolved = { ...resolve({ prompt: '__animal__' }, 99), prompt: 'a cat' };
    expect(buildForgeCall(resolved).body).toMatchObject({ prompt: 'a cat', seed: 99 });
  });
});

describe('buildForgeCall: img2img', () => {
  it('passes inline images through and maps the img2img fields', () => {
    const image = TINY.toString('base64');
    const call = buildForgeCall(
      resolve({ prompt: 'x', init_image: image, mask: image, resize_mode: 2 }),
    );
    expect(call.endpoint).toBe('img2img');
    expect(call.body).toMatchObject({
      init_images: [image],
      mask: image,
      denoising_strength: 0.75,
      resize_mode: 2,
      override_settings_restore_afterwards: true,
    });
    expect(call.body).not.toHaveProperty('enable_hr');
    expect(() => Img2ImgRequestSchema.parse(call.body)).not.toThrow();
  });

  it('uses the supplied bytes for references to earlier jobs', () => {
    const reference = { job_id: JOB_ID, index: 0 };
    const call = buildForgeCall(resolve({ prompt: 'x', init_image: reference, mask: reference }), {
      initImages: [TINY],
      mask: Buffer.from('mask'),
    });
    expect(call.body).toMatchObject({
      init_images: [TINY.toString('base64')],
      mask: Buffer.from('mask').toString('base64'),
    });
  });

  it('fails with FT_ERR_IMAGE_NOT_FOUND when a reference was not resolved', () => {
    const resolved = resolve({ prompt: 'x', init_image: { job_id: JOB_ID, index: 3 } });
    expect(() => buildForgeCall(resolved)).toThrow(
      expect.objectContaining({
        code: 'FT_ERR_IMAGE_NOT_FOUND',
        message: expect.stringMatching(JOB_ID),
      }),
    );
  });
});

describe('buildForgeCall: upscale', () => {
  it('maps the upscale block to the extras endpoint', () => {
    const call = buildForgeCall(
      resolve({
        upscale: {
          source: { image: TINY.toString('base64') },
          upscaler: 'R-ESRGAN 4x+',
          scale: 3,
          upscaler_2: 'Lanczos',
          upscaler_2_visibility: 0.3,
        },
      }),
    );
    expect(call).toEqual({
      endpoint: 'extra-single-image',
      body: {
        image: TINY.toString('base64'),
        resize_mode: 0,
        upscaling_resize: 3,
        upscaler_1: 'R-ESRGAN 4x+',
        upscaler_2: 'Lanczos',
        extras_upscaler_2_visibility: 0.3,
      },
    });
    expect(() => ExtraSingleImageRequestSchema.parse(call.body)).not.toThrow();
  });

  it('takes the source bytes for a reference, and fails without them', () => {
    const resolved = resolve({
      upscale: { source: { job_id: JOB_ID, index: 0 }, upscaler: 'Lanczos' },
    });
    const call = buildForgeCall(resolved, { sourceImage: TINY });
    expect(call.body).toMatchObject({ image: TINY.toString('base64'), upscaler_2: 'None' });
    expect(() => buildForgeCall(resolved)).toThrow(/upscale.source refers to/);
  });
});

describe('built calls against the simulator', () => {
  let sim: ForgeSim;
  let client: ForgeClient;

  beforeAll(async () => {
    sim = await startForgeSim({ port: 0, stepMs: 1, imageMs: 1, loadMs: 1 });
    client = new ForgeClient({ baseUrl: sim.url, name: 'sim-payload' });
  });

  afterAll(async () => {
    await client.close();
    await sim.close();
  });

  it('runs a hires txt2img call and gets images of the hires size with the given seed', async () => {
    const call = buildForgeCall(
      resolve(
        {
          prompt: 'a lighthouse',
          width: 128,
          height: 192,
          steps: 2,
          batch_size: 2,
          hires: { scale: 1.5, steps: 1 },
        },
        777,
      ),
    );
    if (call.endpoint !== 'txt2img') throw new Error('expected a txt2img call');
    const result = await client.txt2img(call.body);
    expect(result.images).toHaveLength(2);
    expect(pngSize(result.images[0] ?? Buffer.alloc(0))).toEqual({ width: 192, height: 288 });
    expect(result.info.seed).toBe(777);
  });

  it('runs an img2img call and an extras call built from the first result', async () => {
    const first = await client.txt2img({ prompt: 'seed image', width: 64, height: 64, steps: 1 });
    const source = first.images[0] ?? Buffer.alloc(0);
    const reference = { job_id: JOB_ID, index: 0 };

    const img2img = buildForgeCall(
      resolve({ prompt: 'again', init_image: reference, width: 64, height: 64, steps: 2 }),
      { initImages: [source] },
    );
    if (img2img.endpoint !== 'img2img') throw new Error('expected an img2img call');
    // The client's input type wants absent images left out rather than undefined.
    const { init_images: initImages, mask, ...rest } = img2img.body;
    const input = { ...rest, init_images: initImages ?? null, ...(mask == null ? {} : { mask }) };
    expect((await client.img2img(input)).images).toHaveLength(1);

    const upscale = buildForgeCall(
      resolve({ upscale: { source: reference, upscaler: 'Lanczos', scale: 2 } }),
      { sourceImage: source },
    );
    if (upscale.endpoint !== 'extra-single-image') throw new Error('expected an extras call');
    const upscaled = await client.extraSingleImage(upscale.body);
    expect(pngSize(upscaled.image)).toEqual({ width: 128, height: 128 });
  });
});
