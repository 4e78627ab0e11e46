import { totalmem } from 'node:os';

import { describe, expect, it } from 'vitest';

import {
  ALWAYSON_SCRIPT_TITLES,
  CMD_FLAGS,
  DEFAULT_CHECKPOINTS,
  FORGE_VERSION,
  LATENT_UPSCALE_MODES,
  LORAS,
  LORA_SHORT_HASHES,
  MODULES,
  PROMPT_STYLES,
  SAMPLERS,
  SCHEDULERS,
  SCRIPTS,
  SCRIPT_INFO,
  SELECTABLE_SCRIPT_TITLES,
  UPSCALERS,
  applyStyles,
  checkpointListing,
  closestCheckpoint,
  defaultOptions,
  extraScheduleType,
  extractStylesFromPrompt,
  fileStem,
  findCheckpoint,
  findSamplerByNameOrAlias,
  formatOptionsResponse,
  isKnownOption,
  memoryReport,
  resolveSamplerAndScheduler,
  scheduleTypeForInfotext,
} from '../src/catalog/index.js';
import { PyFloat, pyJsonDumps } from '../src/python-format.js';

describe('samplers and schedulers', () => {
  it('lists the samplers of forge-api.md §7 in order', () => {
    expect(SAMPLERS.map((sampler) => sampler.name)).toEqual([
      'DPM++ 2M',
      'DPM++ SDE',
      'DPM++ 2M SDE',
      'DPM++ 2M SDE Heun',
      'DPM++ 2S a',
      'DPM++ 3M SDE',
      'Euler a',
      'Euler',
      'LMS',
      'Heun',
      'DPM2',
      'DPM2 a',
      'DPM fast',
      'DPM adaptive',
      'Restart',
      'HeunPP2',
      'IPNDM',
      'IPNDM_V',
      'DEIS',
      'DDIM',
      'DDIM CFG++',
      'PLMS',
      'UniPC',
      'LCM',
      'DDPM',
    ]);
  });

  it('serializes sampler options and scheduler rho as Forge does', () => {
    expect(pyJsonDumps(SAMPLERS[1], { separators: [',', ':'] })).toBe(
      '{"name":"DPM++ SDE","aliases":["k_dpmpp_sde"],"options":{"scheduler":"karras","second_order":true,"brownian_noise":true}}',
    );
    expect(pyJsonDumps(SCHEDULERS[2], { separators: [',', ':'] })).toBe(
      '{"name":"karras","label":"Karras","aliases":null,"default_rho":7.0,"need_inner_model":false}',
    );
  });

  it('lists the schedulers of §7 with their labels', () => {
    expect(SCHEDULERS.map((entry) => `${entry.name}/${entry.label}`)).toEqual([
      'automatic/Automatic',
      'uniform/Uniform',
      'karras/Karras',
      'exponential/Exponential',
      'polyexponential/Polyexponential',
      'sgm_uniform/SGM Uniform',
      'kl_optimal/KL Optimal',
      'align_your_steps/Align Your Steps',
      'simple/Simple',
      'normal/Normal',
      'ddim/DDIM',
      'beta/Beta',
      'turbo/Turbo',
      'align_your_steps_GITS/Align Your Steps GITS',
      'align_your_steps_11/Align Your Steps 11',
      'align_your_steps_32/Align Your Steps 32',
    ]);
    expect(SCHEDULERS.filter((entry) => entry.aliases !== null).map((entry) => entry.name)).toEqual(
      ['sgm_uniform'],
    );
  });

  it.each([
    ['Euler a', null, 'Euler a', 'Automatic'],
    ['DPM++ 2M Karras', null, 'DPM++ 2M', 'Automatic'],
    ['DPM++ 2M', 'Karras', 'DPM++ 2M', 'Karras'],
    ['DPM++ 2M', 'karras', 'DPM++ 2M', 'Karras'],
    ['Euler', 'simple', 'Euler', 'Simple'],
    ['Euler Karras', null, 'Euler', 'Karras'],
    ['Euler a karras', null, 'Euler a', 'Karras'],
    ['Euler SGMUniform', null, 'Euler', 'SGM Uniform'],
    ['DPM++ 2M SDE Exponential', null, 'DPM++ 2M SDE', 'Automatic'],
    ['DDIM', 'Karras', 'DDIM', 'Karras'],
    ['Euler', 'no such schedule', 'Euler', 'Automatic'],
    ['Euler', 'SGMUniform', 'Euler', 'Automatic'],
    ['no such sampler', null, 'DPM++ 2M', 'Automatic'],
    ['k_euler', null, 'DPM++ 2M', 'Automatic'],
    ['euler a', null, 'DPM++ 2M', 'Automatic'],
    [null, null, 'DPM++ 2M', 'Automatic'],
    ['', undefined, 'DPM++ 2M', 'Automatic'],
  ])('resolves sampler %j with scheduler %j', (sampler, scheduler, wantSampler, wantScheduler) => {
    expect(resolveSamplerAndScheduler(sampler, scheduler)).toEqual({
      sampler: wantSampler,
      scheduler: wantScheduler,
    });
  });

  it.each([
    ['DPM++ 2M', 'Automatic', 'Karras'],
    ['DPM++ 2M SDE', 'Automatic', 'Exponential'],
    ['Euler a', 'Automatic', 'Automatic'],
    ['Euler', 'Simple', 'Simple'],
    ['DDIM', 'Automatic', 'Automatic'],
    ['DDIM', 'Karras', 'Karras'],
    ['LCM', 'Automatic', 'Automatic'],
  ])('shows %s with %s as Schedule type %s', (sampler, scheduler, expected) => {
    expect(scheduleTypeForInfotext(sampler, scheduler)).toBe(expected);
  });

  it('adds Schedule type to the extra parameters only for resolved sigma schedules', () => {
    expect(extraScheduleType('DPM++ 2M', 'Automatic')).toBe('Karras');
    expect(extraScheduleType('Euler', 'Beta')).toBe('Beta');
    expect(extraScheduleType('Euler a', 'Automatic')).toBeNull();
    expect(extraScheduleType('UniPC', 'Karras')).toBeNull();
  });

  it('finds samplers by alias ignoring case for scripts', () => {
    expect(findSamplerByNameOrAlias('K_EULER_A')?.name).toBe('Euler a');
    expect(findSamplerByNameOrAlias('dpm++ 2m')?.name).toBe('DPM++ 2M');
    expect(findSamplerByNameOrAlias('nope')).toBeUndefined();
  });
});

describe('checkpoints', () => {
  it('lists checkpoints the way /sdapi/v1/sd-models does', () => {
    const listing = checkpointListing(DEFAULT_CHECKPOINTS);
    expect(listing[0]).toEqual({
      title: 'v1-5-pruned-emaonly.safetensors [6ce0161689]',
      model_name: 'v1-5-pruned-emaonly',
      hash: '6ce0161689',
      sha256: '6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa',
      filename: '/opt/forge/models/Stable-diffusion/v1-5-pruned-emaonly.safetensors',
      config: null,
    });
    expect(listing.find((entry) => entry.model_name.startsWith('flux'))).toEqual({
      title: 'flux1-dev-bnb-nf4-v2.safetensors',
      model_name: 'flux1-dev-bnb-nf4-v2',
      hash: null,
      sha256: null,
      filename: '/opt/forge/models/Stable-diffusion/flux1-dev-bnb-nf4-v2.safetensors',
      config: null,
    });
    expect(listing.map((entry) => entry.model_name)).toContain('anime_counterfeitV30_v30');
  });

  it('covers the required families with 64-hex hashes', () => {
    expect(new Set(DEFAULT_CHECKPOINTS.map((checkpoint) => checkpoint.family))).toEqual(
      new Set(['sd15', 'sdxl', 'flux']),
    );
    for (const checkpoint of DEFAULT_CHECKPOINTS)
      expect(checkpoint.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    'v1-5-pruned-emaonly.safetensors [6ce0161689]',
    'v1-5-pruned-emaonly.safetensors',
    'v1-5-pruned-emaonly',
    '6ce0161689',
    '6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa',
    'v1-5-pruned-emaonly [6ce0161689]',
    'bf7ee999',
    'v1-5-pruned-emaonly.safetensors [bf7ee999]',
  ])('finds the SD 1.5 checkpoint by %s', (alias) => {
    expect(findCheckpoint(DEFAULT_CHECKPOINTS, alias)?.name).toBe(
      'v1-5-pruned-emaonly.safetensors',
    );
  });

  it('distinguishes the model name of a sub-folder file from its stem', () => {
    const anime = 'anime/counterfeitV30_v30.safetensors';
    expect(findCheckpoint(DEFAULT_CHECKPOINTS, 'anime_counterfeitV30_v30')?.name).toBe(anime);
    expect(findCheckpoint(DEFAULT_CHECKPOINTS, 'counterfeitV30_v30')?.name).toBe(anime);
    expect(findCheckpoint(DEFAULT_CHECKPOINTS, 'counterfeitV30_v30 [bcaf256a67]')?.name).toBe(
      anime,
    );
  });

  it('accepts no hash aliases for an unhashed checkpoint', () => {
    const flux = DEFAULT_CHECKPOINTS.find((checkpoint) => checkpoint.family === 'flux');
    expect(flux).toBeDefined();
    expect(findCheckpoint(DEFAULT_CHECKPOINTS, flux?.sha256 ?? '')).toBeUndefined();
    expect(findCheckpoint(DEFAULT_CHECKPOINTS, flux?.sha256.slice(0, 10) ?? '')).toBeUndefined();
    expect(findCheckpoint(DEFAULT_CHECKPOINTS, 'flux1-dev-bnb-nf4-v2.safetensors')).toBe(flux);
  });

  it('rejects unknown and partial names in exact lookup', () => {
    expect(findCheckpoint(DEFAULT_CHECKPOINTS, 'nope')).toBeUndefined();
    expect(findCheckpoint(DEFAULT_CHECKPOINTS, 'v1-5')).toBeUndefined();
  });

  it('matches loosely the way get_closet_checkpoint_match does', () => {
    expect(closestCheckpoint(DEFAULT_CHECKPOINTS, 'v1-5')?.family).toBe('sd15');
    expect(
      closestCheckpoint(DEFAULT_CHECKPOINTS, 'sd_xl_base_1.0.safetensors [0000000000]')?.family,
    ).toBe('sdxl');
    expect(closestCheckpoint(DEFAULT_CHECKPOINTS, '')).toBeUndefined();
  });

  it.each([
    ['a/b.c.safetensors', 'b.c'],
    ['/opt/forge/models/VAE/ae.safetensors', 'ae'],
    ['.hidden', '.hidden'],
    ['..y', '..y'],
    ['noext', 'noext'],
  ])('takes the stem of %s as os.path.splitext does', (path, stem) => {
    expect(fileStem(path)).toBe(stem);
  });
});

describe('lists', () => {
  it('lists modules with absolute paths', () => {
    expect(MODULES.map((module) => module.model_name)).toEqual([
      'ae.safetensors',
      'clip_l.safetensors',
      't5xxl_fp16.safetensors',
      't5xxl_fp8_e4m3fn.safetensors',
    ]);
    for (const module of MODULES)
      expect(module.filename).toMatch(new RegExp(`^/.*/${module.model_name}$`));
  });

  it('lists the upscalers and latent modes of §3', () => {
    expect(UPSCALERS.map((entry) => entry.name)).toEqual([
      'None',
      'Lanczos',
      'Nearest',
      'ESRGAN_4x',
      'R-ESRGAN 4x+',
      'R-ESRGAN 4x+ Anime6B',
      'DAT x2',
      'ScuNET GAN',
      'SwinIR 4x',
    ]);
    expect(LATENT_UPSCALE_MODES.map((mode) => mode.name)).toEqual([
      'Latent',
      'Latent (antialiased)',
      'Latent (bicubic)',
      'Latent (bicubic antialiased)',
      'Latent (nearest)',
      'Latent (nearest-exact)',
    ]);
  });

  it('gives every LoRA a 12-hex short hash', () => {
    expect(LORAS).toHaveLength(3);
    for (const lora of LORAS) {
      expect(Object.keys(lora)).toEqual(['name', 'alias', 'path', 'metadata']);
      expect(LORA_SHORT_HASHES[lora.name]).toMatch(/^[0-9a-f]{12}$/);
    }
  });
});

describe('prompt styles', () => {
  it('wraps the prompt and appends the negative prompt', () => {
    expect(applyStyles('a cat', 'blurry', ['Cinematic'])).toEqual({
      prompt: 'cinematic still of a cat, shallow depth of field, film grain, highly detailed',
      negativePrompt: 'blurry, cartoon, illustration, anime, painting, lowres',
    });
  });

  it('applies several styles in order, ignoring unknown names', () => {
    expect(applyStyles('  a cat  ', 'blurry', ['Cinematic', 'Nope', 'Anime'])).toEqual({
      prompt:
        'anime artwork of cinematic still of a cat, shallow depth of field, film grain, highly detailed, key visual, vibrant, studio anime, highly detailed',
      negativePrompt:
        'blurry, cartoon, illustration, anime, painting, lowres, photo, deformed, black and white, realism, disfigured, low contrast',
    });
  });

  it('strips comments and whitespace even without styles', () => {
    expect(applyStyles('a cat # secret\nwith hat', '', []).prompt).toBe('a cat \nwith hat');
    expect(applyStyles('# header\na cat', '', []).prompt).toBe('a cat');
    expect(applyStyles('', '', ['Cinematic']).negativePrompt).toBe(
      'cartoon, illustration, anime, painting, lowres',
    );
  });

  it('extracts the styles it applied', () => {
    const styled = applyStyles('a cat', 'blurry', ['Cinematic', 'Anime']);
    expect(extractStylesFromPrompt(styled.prompt, styled.negativePrompt)).toEqual({
      styles: ['Cinematic', 'Anime'],
      prompt: 'a cat',
      negativePrompt: 'blurry',
    });
  });

  it('finds no style in a plain prompt', () => {
    expect(extractStylesFromPrompt('a cat', 'blurry', PROMPT_STYLES).styles).toEqual([]);
  });
});

describe('scripts', () => {
  it('lists lower-cased titles per runner', () => {
    expect(SCRIPTS.txt2img).toContain('x/y/z plot');
    expect(SCRIPTS.txt2img).toContain('controlnet');
    expect(SCRIPTS.txt2img).toContain('refiner');
    expect(SCRIPTS.txt2img).not.toContain('soft inpainting');
    expect(SCRIPTS.img2img).toContain('soft inpainting');
    expect(SCRIPTS.img2img).toContain('sd upscale');
    for (const title of [...SCRIPTS.txt2img, ...SCRIPTS.img2img])
      expect(title).toBe(title.toLowerCase());
  });

  it('separates always-on from selectable titles in original case', () => {
    expect(ALWAYSON_SCRIPT_TITLES.txt2img).toEqual(
      expect.arrayContaining(['ControlNet', 'Refiner', 'Seed', 'Sampler', 'Never OOM Integrated']),
    );
    expect(ALWAYSON_SCRIPT_TITLES.txt2img).not.toContain('X/Y/Z plot');
    expect(SELECTABLE_SCRIPT_TITLES.txt2img).toEqual(
      expect.arrayContaining(['X/Y/Z plot', 'Prompts from file or textbox']),
    );
    expect(SELECTABLE_SCRIPT_TITLES.img2img).toContain('Loopback');
    expect(SELECTABLE_SCRIPT_TITLES.txt2img).not.toContain('Loopback');
  });

  it('describes every script of both runners in script-info', () => {
    expect(SCRIPT_INFO).toHaveLength(SCRIPTS.txt2img.length + SCRIPTS.img2img.length);
    const xyz = SCRIPT_INFO.find((info) => info.name === 'x/y/z plot' && !info.is_img2img);
    expect(xyz?.is_alwayson).toBe(false);
    for (const info of SCRIPT_INFO) {
      for (const arg of info.args) {
        expect(Object.keys(arg)).toEqual([
          'label',
          'value',
          'minimum',
          'maximum',
          'step',
          'choices',
        ]);
      }
    }
  });
});

describe('flags and memory', () => {
  it('reports the argparse flags of a server started with --api', () => {
    expect(Object.keys(CMD_FLAGS).length).toBeGreaterThan(150);
    expect(CMD_FLAGS).toMatchObject({
      api: true,
      nowebui: false,
      api_auth: null,
      always_gpu: false,
      cuda_malloc: false,
      port: null,
    });
  });

  it('reports real RAM and an unavailable CUDA device by default', () => {
    const report = memoryReport();
    const ram = report['ram'] as { free: PyFloat; used: number; total: PyFloat };
    expect(ram.total).toBeInstanceOf(PyFloat);
    expect(Math.abs(ram.total.value - totalmem()) / totalmem()).toBeLessThan(0.001);
    expect(Number.isInteger(ram.used)).toBe(true);
    expect(ram.free.value + ram.used).toBeCloseTo(ram.total.value, 0);
    expect(report['cuda']).toEqual({ error: 'unavailable' });
  });

  it('can invent a CUDA device', () => {
    const cuda = memoryReport({ cuda: true })['cuda'] as Record<string, Record<string, number>>;
    expect(Object.keys(cuda)).toEqual([
      'system',
      'active',
      'allocated',
      'reserved',
      'inactive',
      'events',
    ]);
    const system = cuda['system'] ?? {};
    expect((system['free'] ?? 0) + (system['used'] ?? 0)).toBe(system['total']);
  });
});

describe('options', () => {
  it('holds every common and Forge key with its default', () => {
    const options = defaultOptions();
    expect(Object.keys(options).length).toBeGreaterThanOrEqual(150);
    expect(options).toMatchObject({
      sd_model_checkpoint: 'v1-5-pruned-emaonly.safetensors [6ce0161689]',
      sd_vae: 'Automatic',
      CLIP_stop_at_last_layers: 1,
      samples_format: 'png',
      enable_pnginfo: true,
      add_model_hash_to_info: true,
      add_model_name_to_info: true,
      add_version_to_infotext: true,
      return_grid: true,
      grid_only_if_multiple: true,
      live_previews_enable: true,
      show_progress_every_n_steps: 10,
      live_previews_image_format: 'png',
      jpeg_quality: 80,
      api_enable_requests: true,
      api_forbid_local_requests: true,
      forge_preset: 'sd',
      forge_additional_modules: [],
      forge_unet_storage_dtype: 'Automatic',
      forge_inference_memory: 1024,
      forge_async_loading: 'Queue',
      forge_pin_shared_memory: 'CPU',
      forge_canvas_plain: false,
      forge_canvas_toolbar_always: false,
      flux_t2i_d_cfg: 3.5,
      sd_t2i_width: 512,
      eta_noise_seed_delta: 0,
    });
  });

  it('returns a fresh object on every call', () => {
    const first = defaultOptions();
    first['jpeg_quality'] = 1;
    (first['forge_additional_modules'] as string[]).push('x');
    expect(defaultOptions()['jpeg_quality']).toBe(80);
    expect(defaultOptions()['forge_additional_modules']).toEqual([]);
  });

  it('serializes like OptionsModel: float-typed numbers print with .0', () => {
    const response = formatOptionsResponse({ jpeg_quality: 90, unknown_key: 1 });
    const json = pyJsonDumps(response, { separators: [',', ':'], ensureAscii: false });
    expect(json).toContain('"jpeg_quality":90.0');
    expect(json).toContain('"CLIP_stop_at_last_layers":1.0');
    expect(json).toContain('"s_churn":0.0');
    expect(json).toContain('"eta_noise_seed_delta":0,');
    expect(json).toContain('"enable_pnginfo":true');
    expect(json).not.toContain('unknown_key');
    expect(Object.keys(response)).toEqual(Object.keys(defaultOptions()));
  });

  it('knows which option keys exist', () => {
    expect(isKnownOption('jpeg_quality')).toBe(true);
    expect(isKnownOption('forge_additional_modules')).toBe(true);
    expect(isKnownOption('foo')).toBe(false);
    expect(isKnownOption('toString')).toBe(false);
  });

  it('exposes the Forge version string', () => {
    expect(FORGE_VERSION).toBe('f2.0.1v1.10.1-previous-669-gdfdcbab6');
  });
});
