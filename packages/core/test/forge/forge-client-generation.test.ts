// txt2img, img2img, progress, interrupt, abort and the hires workaround against the simulator.
import { startForgeSim, type ForgeSim } from '@forge-tool/forge-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForgeClient, HIRES_SAME_MODULES } from '../../src/forge/forge-client.js';
import type { ProgressResponse } from '../../src/forge/generation-schemas.js';
import { expectForgeError, isPng, isSampling, pngSize, pollProgress } from './helpers.js';

let sim: ForgeSim;
let client: ForgeClient;

beforeAll(async () => {
  sim = await startForgeSim({ port: 0, stepMs: 3, imageMs: 1, loadMs: 5, previewEveryNSteps: 2 });
  client = new ForgeClient({ baseUrl: sim.url, name: 'sim-generation' });
});

afterAll(async () => {
  await client.close();
  await sim.close();
});

describe('txt2img', () => {
  it('decodes images to PNG buffers and parses info', async () => {
    const result = await client.txt2img({
      prompt: 'a red fox',
      negative_prompt: 'blurry',
      steps: 3,
      width: 64,
      height: 80,
      batch_size: 2,
      seed: 1234,
      sampler_name: 'Euler a',
      cfg_scale: 7,
    });

    expect(result.images).toHaveLength(2);
    for (const image of result.images) {
      expect(isPng(image)).toBe(true);
      expect(pngSize(image)).toEqual({ width: 64, height: 80 });
    }
    expect(result.info).toMatchObject({
      prompt: 'a red fox',
      negative_prompt: 'blurry',
      seed: 1234,
      all_seeds: [1234, 1235],
      steps: 3,
      width: 64,
      height: 80,
      sampler_name: 'Euler a',
    });
    expect(result.info.infotexts).toHaveLength(2);
    expect(JSON.parse(result.rawInfo)).toEqual(result.info);
    expect(result.parameters['seed']).toBe(1234);
  });

  it('resolves a -1 seed while parameters echo the request', async () => {
    const result = await client.txt2img({ prompt: 'x', steps: 1, width: 64, height: 64, seed: -1 });
    expect(result.parameters['seed']).toBe(-1);
    expect(result.info.seed).toBeGreaterThanOrEqual(0);
  });

  it('returns no images when send_images is false', async () => {
    const result = await client.txt2img({
      prompt: 'x',
      steps: 1,
      width: 64,
      height: 64,
      send_images: false,
    });
    expect(result.images).toEqual([]);
    expect(result.info.infotexts.length).toBeGreaterThan(0);
  });
});

describe('txt2img hires fix workaround', () => {
  const hires = {
    prompt: 'a castle',
    steps: 2,
    width: 64,
    height: 64,
    enable_hr: true,
    hr_scale: 2,
    hr_upscaler: 'Latent',
    denoising_strength: 0.5,
  };

  it('shows the Forge crash the workaround avoids', async () => {
    const response = await fetch(`${sim.url}/sdapi/v1/txt2img`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(hires),
    });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: 'TypeError' });
  });

  it('sends ["Use same choices"] when the caller left hr_additional_modules unset', async () => {
    const result = await client.txt2img(hires);
    expect(result.parameters['hr_additional_modules']).toEqual([HIRES_SAME_MODULES]);
    const [image] = result.images;
    expect(image === undefined ? undefined : pngSize(image)).toEqual({ width: 128, height: 128 });
  });

  it('also replaces an explicit null, and keeps a list the caller chose', async () => {
    const fromNull = await client.txt2img({ ...hires, hr_additional_modules: null });
    expect(fromNull.parameters['hr_additional_modules']).toEqual([HIRES_SAME_MODULES]);
    const chosen = await client.txt2img({ ...hires, hr_additional_modules: [] });
    expect(chosen.parameters['hr_additional_modules']).toEqual([]);
  });

  it('leaves requests without hires untouched', async () => {
    const result = await client.txt2img({ prompt: 'x', steps: 1, width: 64, height: 64 });
    expect(result.parameters['hr_additional_modules'] ?? null).toBeNull();
  });
});

describe('img2img', () => {
  it('accepts the init image as a Buffer and as base64', async () => {
    const source = await client.txt2img({ prompt: 'a tree', steps: 2, width: 64, height: 64 });
    const [init] = source.images;
    if (init === undefined) throw new Error('no init image');

    const fromBuffer = await client.img2img({
      prompt: 'a tree in winter',
      init_images: [init],
      denoising_strength: 0.6,
      steps: 2,
      width: 96,
      height: 64,
    });
    expect(fromBuffer.images).toHaveLength(1);
    const [output] = fromBuffer.images;
    expect(output === undefined ? undefined : pngSize(output)).toEqual({ width: 96, height: 64 });
    expect(fromBuffer.info.denoising_strength).toBe(0.6);
    expect(fromBuffer.parameters['init_images']).toBeNull();

    const fromBase64 = await client.img2img({
      prompt: 'a tree in spring',
      init_images: [init.toString('base64')],
      mask: init,
      steps: 2,
      width: 64,
      height: 64,
    });
    expect(fromBase64.images.every(isPng)).toBe(true);
  });

  it('rejects an init image of the wrong type before sending', async () => {
    const bad = { prompt: 'x', init_images: [42] } as unknown as Parameters<
      ForgeClient['img2img']
    >[0];
    await expect(client.img2img(bad)).rejects.toThrow(
      /init_images\[0\] must be a Buffer, a Uint8Array or a base64 string/,
    );
  });
});

describe('progress during a generation', () => {
  it('rises, counts steps and carries a PNG live preview', async () => {
    const generation = client.txt2img({ prompt: 'a slow one', steps: 100, width: 64, height: 64 });
    const seen: ProgressResponse[] = [];
    await pollProgress(client, (progress) => {
      seen.push(progress);
      const running = progress.state.job_count > 0;
      // A busy machine may poll too slowly to catch a late step; the end of the job also stops.
      const ended = !running && seen.some((earlier) => earlier.state.job_count > 0);
      return ended || (running && progress.state.sampling_step >= 50);
    });
    const result = await generation;

    const running = seen.filter((progress) => progress.state.job_count > 0);
    const values = running.map((progress) => progress.progress);
    expect(values.length).toBeGreaterThan(2);
    expect(values.at(-1)).toBeGreaterThan(values[0] ?? 1);
    expect(values.every((value, index) => index === 0 || value >= (values[index - 1] ?? 0))).toBe(
      true,
    );
    expect(running.at(-1)?.state.sampling_steps).toBe(100);
    const preview = running.find((progress) => progress.current_image !== null)?.current_image;
    expect(preview === undefined || preview === null ? false : isPng(preview)).toBe(true);
    expect(result.images).toHaveLength(1);
  });

  it('can skip the live preview', async () => {
    const generation = client.txt2img({ prompt: 'quiet', steps: 200, width: 64, height: 64 });
    const progress = await pollProgress(
      client,
      (p) => p.state.job_count > 0 && p.state.sampling_step >= 10,
      { skipCurrentImage: true },
    );
    expect(progress.current_image).toBeNull();
    await generation;
  });
});

describe('interrupt and abort', () => {
  it('interrupts mid-generation and still gets a 200 with partial images', async () => {
    const steps = 400;
    const generation = client.txt2img({ prompt: 'interrupted', steps, width: 64, height: 64 });
    await pollProgress(client, isSampling);
    await client.interrupt();
    const result = await generation;

    expect(result.images).toHaveLength(1);
    expect(result.images.every(isPng)).toBe(true);
    const after = await client.progress();
    expect(after.state.interrupted).toBe(true);
    expect(after.state.sampling_step).toBeLessThan(steps - 1);
  });

  it('aborts a running generation through the caller signal', async () => {
    const controller = new AbortController();
    const generation = client.txt2img(
      { prompt: 'abandoned', steps: 400, width: 64, height: 64 },
      { signal: controller.signal },
    );
    await pollProgress(client, isSampling);
    controller.abort();
    const error = await expectForgeError(generation, 'FT_ERR_FORGE_ABORTED');
    expect(error.message).toContain('POST /sdapi/v1/txt2img');
    expect(error.message).toContain('"sim-generation"');
    await client.interrupt();
  });

  it('does not send a request whose signal is already aborted', async () => {
    const error = await expectForgeError(
      client.samplers({ signal: AbortSignal.abort() }),
      'FT_ERR_FORGE_ABORTED',
    );
    expect(error.message).toMatch(/was not sent/);
  });
});
