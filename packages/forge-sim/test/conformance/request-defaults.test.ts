/**
 * forge-api.md §4.1, §4.2, §5: the request model's defaults, lax coercion and the `parameters`
 * echo, and the `info` string.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ForgeSim } from '../../src/index.js';
import { get, parseInfo, post, startFastSim, type GenerationBody } from '../helpers/sim-client.js';

let sim: ForgeSim;
let tinyPng = '';

beforeAll(async () => {
  sim = await startFastSim();
  const { body } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
    steps: 1,
    width: 64,
    height: 64,
  });
  tinyPng = body.images[0] ?? '';
});
afterAll(() => sim.close());

describe('txt2img parameters echo', () => {
  it('echoes every field with Forge defaults applied and nothing resolved', async () => {
    const { status, body, text } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 2,
    });
    expect(status).toBe(200);
    const p = body.parameters;
    expect(p).toMatchObject({
      prompt: '',
      negative_prompt: '',
      styles: null,
      seed: -1,
      subseed: -1,
      subseed_strength: 0,
      sampler_name: null,
      sampler_index: 'Euler',
      scheduler: null,
      batch_size: 1,
      n_iter: 1,
      steps: 2,
      cfg_scale: 7,
      distilled_cfg_scale: 3.5,
      width: 512,
      height: 512,
      denoising_strength: null,
      enable_hr: false,
      hr_scale: 2,
      hr_additional_modules: null,
      hr_cfg: 1,
      hr_distilled_cfg: 3.5,
      override_settings: null,
      override_settings_restore_afterwards: true,
      script_args: [],
      send_images: true,
      save_images: false,
      alwayson_scripts: {},
      force_task_id: null,
      infotext: null,
    });
    // Python floats keep their ".0" in the raw body; ints do not.
    expect(text).toContain('"cfg_scale":7.0');
    expect(text).toContain('"hr_scale":2.0');
    expect(text).toContain('"subseed_strength":0,');
  });

  it('coerces lax inputs as pydantic does and ignores unknown keys', async () => {
    const { status, body, text } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: '3',
      width: 64.0,
      height: '64',
      cfg_scale: 5,
      tiling: 'false',
      restore_faces: 0,
      not_a_field: 'ignored',
    });
    expect(status).toBe(200);
    expect(body.parameters).toMatchObject({
      steps: 3,
      width: 64,
      height: 64,
      cfg_scale: 5,
      tiling: false,
      restore_faces: false,
    });
    expect(body.parameters).not.toHaveProperty('not_a_field');
    expect(text).toContain('"cfg_scale":5.0');
  });

  it('accepts null for Optional fields', async () => {
    const { status, body } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      width: 64,
      height: 64,
      sampler_name: null,
      seed: null,
      styles: null,
    });
    expect(status).toBe(200);
    expect(body.parameters['seed']).toBeNull();
    expect(parseInfo(body).seed).toBeGreaterThanOrEqual(0);
  });
});

describe('info', () => {
  it('is a JSON string with Python separators and the §5 keys in order', async () => {
    const { body } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      prompt: 'café',
      steps: 2,
      width: 64,
      height: 64,
      seed: 10,
      batch_size: 2,
    });
    expect(body.info).toContain('"prompt": "caf\\u00e9", "all_prompts": ');
    const info = parseInfo(body);
    expect(Object.keys(info)).toEqual([
      'prompt',
      'all_prompts',
      'negative_prompt',
      'all_negative_prompts',
      'seed',
      'all_seeds',
      'subseed',
      'all_subseeds',
      'subseed_strength',
      'width',
      'height',
      'sampler_name',
      'cfg_scale',
      'steps',
      'batch_size',
      'restore_faces',
      'face_restoration_model',
      'sd_model_name',
      'sd_model_hash',
      'sd_vae_name',
      'sd_vae_hash',
      'seed_resize_from_w',
      'seed_resize_from_h',
      'denoising_strength',
      'extra_generation_params',
      'index_of_first_image',
      'infotexts',
      'styles',
      'job_timestamp',
      'clip_skip',
      'is_using_inpainting_conditioning',
      'version',
    ]);
    expect(info.all_seeds).toEqual([10, 11]);
    expect(info['sampler_name']).toBe('Euler');
    expect(info.infotexts).toHaveLength(2);
    expect(info['version']).toBe('f2.0.1v1.10.1-previous-669-gdfdcbab6');
    expect(info['job_timestamp']).toMatch(/^\d{14}$/);
  });

  it('gives all seeds equal when a variation strength is set, and subseeds counting up', async () => {
    const { body } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      width: 64,
      height: 64,
      seed: 5,
      subseed: 100,
      subseed_strength: 0.5,
      batch_size: 3,
    });
    const info = parseInfo(body);
    expect(info.all_seeds).toEqual([5, 5, 5]);
    expect(info['all_subseeds']).toEqual([100, 101, 102]);
    expect(info.infotexts[0]).toContain('Variation seed: 100, Variation seed strength: 0.5');
  });

  it('resolves -1 seeds to a random value below 4294967294', async () => {
    const { body } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      width: 64,
      height: 64,
    });
    const { seed } = parseInfo(body);
    expect(Number.isInteger(seed) && seed >= 0 && seed < 4_294_967_294).toBe(true);
  });

  it('falls back to DPM++ 2M for unknown samplers and splits legacy scheduler names', async () => {
    const unknown = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      width: 64,
      height: 64,
      sampler_name: 'k_euler',
    });
    expect(parseInfo(unknown.body)['sampler_name']).toBe('DPM++ 2M');
    const legacy = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      width: 64,
      height: 64,
      sampler_name: 'DPM++ 2M Karras',
    });
    const info = parseInfo(legacy.body);
    expect(info['sampler_name']).toBe('DPM++ 2M');
    expect(info.infotexts[0]).toContain('Sampler: DPM++ 2M, Schedule type: Karras');
  });
});

describe('img2img', () => {
  it('defaults denoising to 0.75, nulls init_images in the echo, and reports the strength', async () => {
    const { status, body } = await post<GenerationBody>(sim, '/sdapi/v1/img2img', {
      init_images: [tinyPng],
      steps: 4,
      width: 64,
      height: 64,
    });
    expect(status).toBe(200);
    expect(body.parameters).toMatchObject({
      init_images: null,
      mask: null,
      denoising_strength: 0.75,
      include_init_images: false,
      resize_mode: 0,
    });
    expect(parseInfo(body).infotexts[0]).toContain('Denoising strength: 0.75');
  });

  it('keeps init_images in the echo with include_init_images', async () => {
    const { body } = await post<GenerationBody>(sim, '/sdapi/v1/img2img', {
      init_images: [tinyPng],
      include_init_images: true,
      steps: 1,
      width: 64,
      height: 64,
    });
    expect(body.parameters['init_images']).toEqual([tinyPng]);
  });

  it('lowers batch_size to the number of init images when there are fewer', async () => {
    const { body } = await post<GenerationBody>(sim, '/sdapi/v1/img2img', {
      init_images: [tinyPng, tinyPng],
      batch_size: 3,
      steps: 1,
      width: 64,
      height: 64,
    });
    expect(body.images).toHaveLength(2);
    expect(parseInfo(body)['batch_size']).toBe(2);
  });
});

describe('send_images, save_images and the grid', () => {
  it('returns no images with send_images=false', async () => {
    const { body } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      width: 64,
      height: 64,
      send_images: false,
    });
    expect(body.images).toEqual([]);
    expect(parseInfo(body).infotexts).toHaveLength(1);
  });

  it('prepends a grid only with save_images and more than one image', async () => {
    const single = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      width: 64,
      height: 64,
      save_images: true,
    });
    expect(single.body.images).toHaveLength(1);
    const many = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      width: 64,
      height: 64,
      batch_size: 2,
      n_iter: 2,
      save_images: true,
    });
    expect(many.body.images).toHaveLength(5);
    const info = parseInfo(many.body);
    expect(info.index_of_first_image).toBe(1);
    expect(info.infotexts).toHaveLength(5);
  });
});

describe('scripts and styles', () => {
  it('applies styles to the prompts', async () => {
    const { body } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      prompt: 'a cat',
      styles: ['Cinematic'],
      steps: 1,
      width: 64,
      height: 64,
    });
    const info = parseInfo(body);
    expect(info['prompt']).toBe(
      'cinematic still of a cat, shallow depth of field, film grain, highly detailed',
    );
    expect(info['styles']).toEqual(['Cinematic']);
  });

  it('accepts always-on script titles in any case', async () => {
    const { status } = await post(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      width: 64,
      height: 64,
      alwayson_scripts: { controlnet: { args: [] } },
    });
    expect(status).toBe(200);
  });

  it('lists the scripts it accepts', async () => {
    const { body } = await get<{ txt2img: string[]; img2img: string[] }>(sim, '/sdapi/v1/scripts');
    expect(body.txt2img).toContain('x/y/z plot');
    expect(body.txt2img.every((title) => title === title.toLowerCase())).toBe(true);
  });
});
