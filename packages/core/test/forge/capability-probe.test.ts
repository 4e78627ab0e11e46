// The capability probe, its lookups and CapabilityCache against the simulator.
import { startForgeSim, type ForgeSim } from '@forge-tool/forge-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  CapabilityCache,
  probeCapabilities,
  type CapabilitySource,
} from '../../src/forge/capability-probe.js';
import type { ForgeCapabilities } from '../../src/forge/forge-capabilities.js';
import { ForgeClient } from '../../src/forge/forge-client.js';
import { closedPort, expectForgeError } from './helpers.js';

let sim: ForgeSim;
let client: ForgeClient;
let deadClient: ForgeClient;
let caps: ForgeCapabilities;

beforeAll(async () => {
  sim = await startForgeSim({ port: 0, stepMs: 1, imageMs: 1, loadMs: 1 });
  client = new ForgeClient({ baseUrl: sim.url, name: 'sim-caps' });
  deadClient = new ForgeClient({ baseUrl: `http://127.0.0.1:${await closedPort()}`, name: 'dead' });
  caps = await probeCapabilities(client);
});

afterAll(async () => {
  await Promise.all([client.close(), deadClient.close()]);
  await sim.close();
});

describe('probeCapabilities', () => {
  it('gathers every list and the relevant options', async () => {
    expect(caps.backend).toBe('sim-caps');
    expect(caps.checkpoints).toEqual(await client.sdModels());
    expect(caps.samplers.length).toBeGreaterThan(10);
    expect(caps.schedulers.length).toBeGreaterThan(10);
    expect(caps.upscalers.length).toBeGreaterThan(0);
    expect(caps.latentUpscaleModes).toHaveLength(6);
    expect(caps.loras.length).toBeGreaterThan(0);
    expect(caps.styles.length).toBeGreaterThan(0);
    expect(caps.modules.length).toBeGreaterThan(0);
    expect(caps.scripts.txt2img.length).toBeGreaterThan(0);

    const options = await client.getOptions();
    expect(caps.settings).toEqual({
      currentCheckpoint: options.sd_model_checkpoint,
      additionalModules: options.forge_additional_modules,
      preset: options.forge_preset,
      unetStorageDtype: options.forge_unet_storage_dtype,
      clipSkip: options.CLIP_stop_at_last_layers,
      livePreviews: {
        enabled: options.live_previews_enable,
        everyNSteps: options.show_progress_every_n_steps,
        format: options.live_previews_image_format,
      },
    });
    expect(caps.findCheckpoint(caps.settings.currentCheckpoint ?? '')).toBeDefined();
  });

  it('fails as a whole when the server is unreachable', async () => {
    await expectForgeError(probeCapabilities(deadClient), 'FT_ERR_FORGE_UNREACHABLE');
  });
});

describe('ForgeCapabilities lookups', () => {
  it('finds samplers by name or alias, case-insensitively', () => {
    expect(caps.findSampler('Euler a')?.name).toBe('Euler a');
    expect(caps.findSampler('euler A')?.name).toBe('Euler a');
    expect(caps.findSampler('K_EULER_A')?.name).toBe('Euler a');
    expect(caps.findSampler('Euler b')).toBeUndefined();
  });

  it('splits a legacy sampler name that carries its scheduler', () => {
    const resolved = caps.resolveSampler('DPM++ 2M Karras');
    expect(resolved?.sampler.name).toBe('DPM++ 2M');
    expect(resolved?.scheduler?.name).toBe('karras');
    expect(caps.findSampler('DPM++ 2M SDE')?.name).toBe('DPM++ 2M SDE');
    expect(caps.resolveSampler('Euler')?.scheduler).toBeUndefined();
  });

  it('finds schedulers by name, label or alias', () => {
    expect(caps.findScheduler('Karras')?.name).toBe('karras');
    expect(caps.hasScheduler('karras')).toBe(true);
    expect(caps.hasScheduler('SGMUniform')).toBe(true);
    expect(caps.hasScheduler('Align Your Steps GITS')).toBe(true);
    expect(caps.hasScheduler('karras2')).toBe(false);
  });

  it('finds checkpoints by every alias Forge accepts, exactly', () => {
    const hashed = caps.checkpoints.find((model) => model.hash !== null && model.sha256 !== null);
    if (hashed?.hash == null || hashed.sha256 === null) throw new Error('need a hashed model');
    const name = hashed.title.replace(` [${hashed.hash}]`, '');
    for (const alias of [hashed.title, name, hashed.model_name, hashed.hash, hashed.sha256]) {
      expect(caps.findCheckpoint(alias), alias).toBe(hashed);
    }
    expect(caps.findCheckpoint(hashed.title.toUpperCase())).toBeUndefined();
    expect(caps.findCheckpoint('nope.safetensors')).toBeUndefined();

    const unhashed = caps.checkpoints.find((model) => model.hash === null);
    if (unhashed === undefined) throw new Error('need an unhashed model');
    expect(caps.findCheckpoint(unhashed.title)).toBe(unhashed);
  });

  it('checks upscalers with and without latent modes', () => {
    expect(caps.hasUpscaler('R-ESRGAN 4x+')).toBe(true);
    expect(caps.hasUpscaler('Latent (bicubic)')).toBe(true);
    expect(caps.hasUpscaler('Latent (bicubic)', { includeLatent: false })).toBe(false);
    expect(caps.hasUpscaler('r-esrgan 4x+')).toBe(false);
  });

  it('checks LoRAs by name or alias, styles, scripts and modules', () => {
    const [lora] = caps.loras;
    const [style] = caps.styles;
    if (lora === undefined || style === undefined) throw new Error('need a LoRA and a style');
    expect(caps.hasLora(lora.name)).toBe(true);
    expect(caps.hasLora(lora.alias)).toBe(true);
    expect(caps.hasLora(`${lora.name}-missing`)).toBe(false);
    expect(caps.hasStyle(style.name)).toBe(true);
    expect(caps.hasStyle(`${style.name} (missing)`)).toBe(false);
    expect(caps.hasScript('X/Y/Z plot', 'txt2img')).toBe(true);
    expect(caps.hasScript('No such script', 'img2img')).toBe(false);
    expect(caps.findModule('ae.safetensors')?.model_name).toBe('ae.safetensors');
    expect(caps.findModule('ae')?.model_name).toBe('ae.safetensors');
    expect(caps.findModule('vae-missing')).toBeUndefined();
  });

  it('serialises to a plain snapshot', () => {
    const json = JSON.parse(JSON.stringify(caps)) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['checkpoints', 'settings']));
  });
});

/** A probe source that counts probes and can be pointed at a dead server. */
function switchableSource(): {
  source: CapabilitySource;
  counts: { probes: number; refreshCheckpoints: number; refreshLoras: number };
  use(target: ForgeClient): void;
} {
  const counts = { probes: 0, refreshCheckpoints: 0, refreshLoras: 0 };
  let target = client;
  const source: CapabilitySource = {
    name: 'switchable',
    sdModels: (call) => {
      counts.probes += 1;
      return target.sdModels(call);
    },
    sdModules: (call) => target.sdModules(call),
    samplers: (call) => target.samplers(call),
    schedulers: (call) => target.schedulers(call),
    upscalers: (call) => target.upscalers(call),
    latentUpscaleModes: (call) => target.latentUpscaleModes(call),
    loras: (call) => target.loras(call),
    promptStyles: (call) => target.promptStyles(call),
    scripts: (call) => target.scripts(call),
    getOptions: (call) => target.getOptions(call),
    refreshCheckpoints: (call) => {
      counts.refreshCheckpoints += 1;
      return target.refreshCheckpoints(call);
    },
    refreshLoras: (call) => {
      counts.refreshLoras += 1;
      return target.refreshLoras(call);
    },
  };
  return { source, counts, use: (next) => (target = next) };
}

describe('CapabilityCache', () => {
  it('serves from cache until ttlMs has passed', async () => {
    let now = 1_000;
    const { source, counts } = switchableSource();
    const cache = new CapabilityCache(source, { ttlMs: 60_000, now: () => now });

    const first = await cache.get();
    expect(await cache.get()).toBe(first);
    now += 59_999;
    expect(await cache.get()).toBe(first);
    expect(counts.probes).toBe(1);

    now += 1;
    const second = await cache.get();
    expect(second).not.toBe(first);
    expect(counts.probes).toBe(2);
    expect(cache.peek()).toBe(second);
  });

  it('shares one in-flight probe between concurrent callers', async () => {
    const { source, counts } = switchableSource();
    const cache = new CapabilityCache(source);
    const results = await Promise.all([cache.get(), cache.get(), cache.get(), cache.get()]);
    expect(new Set(results).size).toBe(1);
    expect(counts.probes).toBe(1);
  });

  it('does not cache a failed probe', async () => {
    const { source, counts, use } = switchableSource();
    const cache = new CapabilityCache(source);
    use(deadClient);
    await expectForgeError(cache.get(), 'FT_ERR_FORGE_UNREACHABLE');
    expect(cache.peek()).toBeUndefined();

    use(client);
    const caps = await cache.get();
    expect(caps.samplers.length).toBeGreaterThan(0);
    expect(counts.probes).toBe(2);
  });

  it('refreshes on demand, rescanning first when asked', async () => {
    const { source, counts } = switchableSource();
    const cache = new CapabilityCache(source);
    const first = await cache.get();

    const plain = await cache.refresh();
    expect(plain).not.toBe(first);
    expect(counts).toEqual({ probes: 2, refreshCheckpoints: 0, refreshLoras: 0 });

    const rescanned = await cache.refresh({ refreshCheckpoints: true, refreshLoras: true });
    expect(counts).toEqual({ probes: 3, refreshCheckpoints: 1, refreshLoras: 1 });
    expect(await cache.get()).toBe(rescanned);
  });

  it('forgets its result on invalidate()', async () => {
    const { source, counts } = switchableSource();
    const cache = new CapabilityCache(source);
    await cache.get();
    cache.invalidate();
    expect(cache.peek()).toBeUndefined();
    await cache.get();
    expect(counts.probes).toBe(2);
  });

  it('lets one caller stop waiting without cancelling the shared probe', async () => {
    const { source, counts } = switchableSource();
    const cache = new CapabilityCache(source);
    const controller = new AbortController();
    const abandoned = cache.get({ signal: controller.signal });
    const kept = cache.get();
    controller.abort();
    await expectForgeError(abandoned, 'FT_ERR_FORGE_ABORTED');
    expect((await kept).samplers.length).toBeGreaterThan(0);
    expect(counts.probes).toBe(1);
  });

  it('rejects a negative ttlMs', () => {
    expect(() => new CapabilityCache(client, { ttlMs: -1 })).toThrow(ConfigError);
    expect(() => new CapabilityCache(client, { ttlMs: -1 })).toThrow(/options\.ttlMs must be/);
  });
});
