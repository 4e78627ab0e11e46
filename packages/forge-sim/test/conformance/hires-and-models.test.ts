/**
 * forge-api.md §2, §4.1, §4.5, §8: hires fix (job count, size, infotext keys), override_settings,
 * the lazy checkpoint load, Flux infotext entries.
 */
import { afterEach, describe, expect, it } from 'vitest';

import type { ForgeSim } from '../../src/index.js';
import {
  get,
  parseInfo,
  post,
  startFastSim,
  waitForProgress,
  type GenerationBody,
  type ProgressBody,
} from '../helpers/sim-client.js';

let sim: ForgeSim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const HIRES = {
  enable_hr: true,
  denoising_strength: 0.4,
  hr_additional_modules: ['Use same choices'],
} as const;

function pngSize(base64: string): [number, number] {
  const png = Buffer.from(base64, 'base64');
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

describe('hires fix', () => {
  it('doubles job_count and runs a second pass of hr_second_pass_steps', async () => {
    sim = await startFastSim({ stepMs: 6 });
    const job = post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      ...HIRES,
      steps: 12,
      hr_second_pass_steps: 7,
      n_iter: 2,
      width: 64,
      height: 64,
    });
    const firstPass = await waitForProgress(sim, (progress) => progress.state.job_count > 0);
    expect(firstPass.state.job_count).toBe(4);
    const secondPass = await waitForProgress(
      sim,
      (progress) => progress.state.job_no === 1 && progress.state.sampling_step >= 1,
    );
    expect(secondPass.state.sampling_steps).toBe(7);
    const { status } = await job;
    expect(status).toBe(200);
    expect((await get<ProgressBody>(sim, '/sdapi/v1/progress')).body.state.job_no).toBe(4);
  });

  it('scales the output by hr_scale and writes the hires infotext keys', async () => {
    sim = await startFastSim();
    const { body } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      ...HIRES,
      steps: 3,
      width: 64,
      height: 96,
      hr_scale: 1.5,
      hr_upscaler: 'Latent',
      hr_second_pass_steps: 2,
    });
    expect(pngSize(body.images[0] ?? '')).toEqual([96, 144]);
    const info = parseInfo(body);
    expect([info.width, info.height]).toEqual([64, 96]);
    expect(info.infotexts[0]).toContain(
      'Size: 64x96, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.4, ' +
        'Hires Module 1: Use same choices, Hires CFG Scale: 1.0, Hires upscale: 1.5, Hires steps: 2, Hires upscaler: Latent',
    );
    expect(info.extra_generation_params).toMatchObject({
      'Hires prompt': null,
      'Hires upscale': 1.5,
    });
  });

  it('resizes to hr_resize_x/y and says so', async () => {
    sim = await startFastSim();
    const { body } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      ...HIRES,
      steps: 2,
      width: 64,
      height: 64,
      hr_resize_x: 128,
      hr_resize_y: 96,
      hr_upscaler: 'R-ESRGAN 4x+',
    });
    expect(pngSize(body.images[0] ?? '')).toEqual([128, 96]);
    expect(parseInfo(body).infotexts[0]).toContain('Hires resize: 128x96');
  });

  it('fails like Forge when denoising_strength is missing', async () => {
    sim = await startFastSim();
    const { status, body } = await post(sim, '/sdapi/v1/txt2img', {
      enable_hr: true,
      hr_additional_modules: [],
      steps: 2,
      width: 64,
      height: 64,
    });
    expect(status).toBe(500);
    expect(body).toMatchObject({
      error: 'TypeError',
      message: "'>' not supported between instances of 'NoneType' and 'int'",
    });
  });
});

describe('checkpoints and override_settings', () => {
  it('loads a checkpoint lazily: POST /options is quick, the next generation pays loadMs', async () => {
    sim = await startFastSim({ loadMs: 300 });
    await post(sim, '/sdapi/v1/txt2img', { steps: 1, width: 64, height: 64 });
    const before = Date.now();
    const set = await post(sim, '/sdapi/v1/options', { sd_model_checkpoint: 'sd_xl_base_1.0' });
    expect([set.status, set.body]).toEqual([200, null]);
    expect(Date.now() - before).toBeLessThan(300);
    expect(
      (await get<Record<string, unknown>>(sim, '/sdapi/v1/options')).body['sd_model_checkpoint'],
    ).toBe('sd_xl_base_1.0');

    const started = Date.now();
    const { body } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      width: 64,
      height: 64,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(parseInfo(body)['sd_model_name']).toBe('sd_xl_base_1.0');
    expect(sim.stats().modelLoads).toBe(2);
  });

  it('applies override_settings for one request and restores them afterwards', async () => {
    sim = await startFastSim();
    const { body } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      width: 64,
      height: 64,
      override_settings: { CLIP_stop_at_last_layers: 2, sd_model_checkpoint: 'sd_xl_base_1.0' },
    });
    const info = parseInfo(body);
    expect(info['clip_skip']).toBe(2);
    expect(info['sd_model_name']).toBe('sd_xl_base_1.0');
    expect(info.infotexts[0]).toContain('Clip skip: 2');
    const options = (await get<Record<string, unknown>>(sim, '/sdapi/v1/options')).body;
    expect(options['CLIP_stop_at_last_layers']).toBe(1);
    expect(options['sd_model_checkpoint']).toBe('v1-5-pruned-emaonly.safetensors [6ce0161689]');
  });

  it('keeps the overrides with override_settings_restore_afterwards=false', async () => {
    sim = await startFastSim();
    await post(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      width: 64,
      height: 64,
      override_settings: { CLIP_stop_at_last_layers: 3 },
      override_settings_restore_afterwards: false,
    });
    expect(
      (await get<Record<string, unknown>>(sim, '/sdapi/v1/options')).body[
        'CLIP_stop_at_last_layers'
      ],
    ).toBe(3);
  });

  it('silently drops an unknown checkpoint from override_settings', async () => {
    sim = await startFastSim();
    const { status, body } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      width: 64,
      height: 64,
      override_settings: { sd_model_checkpoint: 'no-such-model' },
    });
    expect(status).toBe(200);
    expect(parseInfo(body)['sd_model_name']).toBe('v1-5-pruned-emaonly');
    expect(body.parameters['override_settings']).toEqual({});
  });

  it('hashes an unhashed checkpoint when it is first loaded', async () => {
    sim = await startFastSim();
    const listing = async () =>
      (
        await get<Array<{ title: string; hash: string | null }>>(sim!, '/sdapi/v1/sd-models')
      ).body.find((model) => model.title.startsWith('flux1'));
    expect(await listing()).toMatchObject({
      title: 'flux1-dev-bnb-nf4-v2.safetensors',
      hash: null,
    });
    await post(sim, '/sdapi/v1/options', {
      sd_model_checkpoint: 'flux1-dev-bnb-nf4-v2.safetensors',
    });
    await post(sim, '/sdapi/v1/txt2img', { steps: 1, width: 64, height: 64 });
    expect((await listing())?.hash).toMatch(/^[0-9a-f]{10}$/);
  });

  it('writes Distilled CFG Scale and Module N for Flux with additional modules', async () => {
    sim = await startFastSim();
    await post(sim, '/sdapi/v1/options', {
      sd_model_checkpoint: 'flux1-dev-bnb-nf4-v2',
      forge_additional_modules: ['clip_l.safetensors', 'ae.safetensors', 'missing.safetensors'],
    });
    const options = (await get<Record<string, unknown>>(sim, '/sdapi/v1/options')).body;
    expect(options['forge_additional_modules']).toEqual([
      '/opt/forge/models/text_encoder/clip_l.safetensors',
      '/opt/forge/models/VAE/ae.safetensors',
    ]);
    const { body } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      width: 64,
      height: 64,
      cfg_scale: 1,
    });
    const text = parseInfo(body).infotexts[0] ?? '';
    expect(text).toContain('CFG scale: 1.0, Distilled CFG Scale: 3.5, Seed:');
    expect(text).toMatch(
      /Version: f2\.0\.1v1\.10\.1-previous-669-gdfdcbab6, Module 1: clip_l, Module 2: ae$/,
    );
  });
});
