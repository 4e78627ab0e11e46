// Every non-generation endpoint of ForgeClient against the real simulator.
import { startForgeSim, type ForgeSim } from '@forge-tool/forge-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/logger.js';
import { ForgeClient } from '../../src/forge/forge-client.js';
import { isPng, pngSize } from './helpers.js';

let sim: ForgeSim;
let client: ForgeClient;

beforeAll(async () => {
  sim = await startForgeSim({ port: 0, stepMs: 1, imageMs: 1, loadMs: 5 });
  client = new ForgeClient({ baseUrl: sim.url, name: 'sim-endpoints' });
});

afterAll(async () => {
  await client.close();
  await sim.close();
});

describe('ForgeClient listing endpoints', () => {
  it('pings', async () => {
    await expect(client.ping()).resolves.toBeUndefined();
  });

  it('lists checkpoints, including one Forge has not hashed yet', async () => {
    const models = await client.sdModels();
    expect(models.length).toBeGreaterThan(0);
    for (const model of models) {
      expect(model.title).toContain(model.hash === null ? '' : `[${model.hash}]`);
      expect(model.filename).toMatch(/^\//);
    }
    expect(models.some((model) => model.hash === null && model.sha256 === null)).toBe(true);
  });

  it('lists VAE and text-encoder modules', async () => {
    const modules = await client.sdModules();
    expect(modules.map((module) => module.model_name)).toContain('ae.safetensors');
  });

  it('lists samplers with DPM++ 2M first and aliases', async () => {
    const samplers = await client.samplers();
    expect(samplers[0]?.name).toBe('DPM++ 2M');
    expect(samplers.find((sampler) => sampler.name === 'Euler a')?.aliases).toContain('k_euler_a');
  });

  it('lists schedulers with labels and nullable aliases', async () => {
    const schedulers = await client.schedulers();
    const karras = schedulers.find((scheduler) => scheduler.name === 'karras');
    expect(karras).toMatchObject({ label: 'Karras', aliases: null, default_rho: 7 });
    const sgm = schedulers.find((scheduler) => scheduler.name === 'sgm_uniform');
    expect(sgm?.aliases).toEqual(['SGMUniform']);
  });

  it('lists upscalers and latent upscale modes', async () => {
    const upscalers = await client.upscalers();
    expect(upscalers.map((upscaler) => upscaler.name)).toEqual(
      expect.arrayContaining(['None', 'Lanczos', 'R-ESRGAN 4x+']),
    );
    const modes = await client.latentUpscaleModes();
    expect(modes.map((mode) => mode.name)).toContain('Latent (bicubic antialiased)');
    expect(modes).toHaveLength(6);
  });

  it('lists LoRAs, prompt styles and scripts', async () => {
    const loras = await client.loras();
    expect(loras.length).toBeGreaterThan(0);
    expect(typeof loras[0]?.alias).toBe('string');

    const styles = await client.promptStyles();
    expect(styles.length).toBeGreaterThan(0);

    const scripts = await client.scripts();
    expect(scripts.txt2img).toContain('x/y/z plot');
    expect(scripts.txt2img.every((title) => title === title.toLowerCase())).toBe(true);
    expect(scripts.img2img.length).toBeGreaterThan(0);
  });

  it('reads the memory report', async () => {
    const memory = await client.memory();
    expect('total' in memory.ram ? memory.ram.total : 0).toBeGreaterThan(0);
    expect(memory.cuda).toBeDefined();
  });
});

describe('ForgeClient options and state endpoints', () => {
  it('reads the options the product relies on', async () => {
    const options = await client.getOptions();
    const titles = (await client.sdModels()).map((model) => model.title);
    expect(titles).toContain(options.sd_model_checkpoint);
    expect(options.forge_preset).toEqual(expect.any(String));
    expect(options.forge_additional_modules).toEqual(expect.any(Array));
    expect(options.CLIP_stop_at_last_layers).toBe(1);
  });

  it('changes options and reads them back', async () => {
    await client.setOptions({ CLIP_stop_at_last_layers: 2 });
    expect((await client.getOptions()).CLIP_stop_at_last_layers).toBe(2);
    await client.setOptions({ CLIP_stop_at_last_layers: 1 });
    expect((await client.getOptions()).CLIP_stop_at_last_layers).toBe(1);
  });

  it('selects another checkpoint by title', async () => {
    const [first, second] = (await client.sdModels()).filter((model) => model.hash !== null);
    if (first === undefined || second === undefined) throw new Error('need two hashed models');
    await client.setOptions({ sd_model_checkpoint: second.title });
    expect((await client.getOptions()).sd_model_checkpoint).toBe(second.title);
    await client.setOptions({ sd_model_checkpoint: first.title });
  });

  it('reports idle progress with no preview', async () => {
    const progress = await client.progress();
    expect(progress.progress).toBe(0);
    expect(progress.state.job_count).toBe(0);
    expect(progress.current_image).toBeNull();
  });

  it('interrupts and skips while idle without error', async () => {
    await expect(client.interrupt()).resolves.toBeUndefined();
    await expect(client.skip()).resolves.toBeUndefined();
  });

  it('refreshes checkpoints and LoRAs', async () => {
    await expect(client.refreshCheckpoints()).resolves.toBeUndefined();
    await expect(client.refreshLoras()).resolves.toBeUndefined();
  });
});

describe('ForgeClient image endpoints', () => {
  it('reads png-info back from a generated image', async () => {
    const result = await client.txt2img({
      prompt: 'a lighthouse',
      steps: 3,
      width: 64,
      height: 64,
    });
    const [image] = result.images;
    if (image === undefined) throw new Error('no image');

    const fromBuffer = await client.pngInfo(image);
    expect(fromBuffer.info).toBe(result.info.infotexts[0]);
    expect(fromBuffer.parameters['Steps']).toBe('3');
    expect(fromBuffer.parameters['Prompt']).toBe('a lighthouse');

    const fromDataUrl = await client.pngInfo(`data:image/png;base64,${image.toString('base64')}`);
    expect(fromDataUrl.info).toBe(fromBuffer.info);
  });

  it('upscales one image with extras', async () => {
    const source = await client.txt2img({ prompt: 'a boat', steps: 2, width: 64, height: 48 });
    const [image] = source.images;
    if (image === undefined) throw new Error('no image');

    const result = await client.extraSingleImage({
      image,
      upscaler_1: 'Lanczos',
      upscaling_resize: 2,
    });
    expect(isPng(result.image)).toBe(true);
    expect(pngSize(result.image)).toEqual({ width: 128, height: 96 });
    expect(result.htmlInfo).toEqual(expect.any(String));
  });
});

describe('ForgeClient logging', () => {
  it('writes one debug line per request, bound to the backend name', async () => {
    const lines: Array<{ bindings: Record<string, unknown>; context: Record<string, unknown> }> =
      [];
    const recorder = (bindings: Record<string, unknown>): Logger => ({
      debug: (context) => lines.push({ bindings, context }),
      info: () => {},
      warn: () => {},
      error: () => {},
      child: (more) => recorder({ ...bindings, ...more }),
    });
    const logged = new ForgeClient({ baseUrl: sim.url, name: 'logged', logger: recorder({}) });
    try {
      await logged.samplers();
    } finally {
      await logged.close();
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      bindings: { backend: 'logged' },
      context: { method: 'GET', endpoint: '/sdapi/v1/samplers', status: 200 },
    });
  });
});
