/**
 * forge-api.md §3, §5, §8: PNG output with its `parameters` chunk, png-info, extras, and the
 * shape of every list endpoint.
 */
import { gunzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readPngText, type ForgeSim } from '../../src/index.js';
import { get, parseInfo, post, startFastSim, type GenerationBody } from '../helpers/sim-client.js';

let sim: ForgeSim;
beforeAll(async () => {
  sim = await startFastSim();
});
afterAll(() => sim.close());

function pngSize(base64: string): [number, number] {
  const png = Buffer.from(base64, 'base64');
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

describe('generated images', () => {
  it('are PNGs of the requested size whose parameters chunk equals info.infotexts[i]', async () => {
    const { body } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      prompt: 'a red fox, snow: deep',
      negative_prompt: 'blurry',
      steps: 3,
      width: 96,
      height: 64,
      batch_size: 2,
      seed: 77,
    });
    const info = parseInfo(body);
    expect(body.images).toHaveLength(2);
    body.images.forEach((image, index) => {
      expect(image.startsWith('iVBORw0KGgo')).toBe(true);
      expect(pngSize(image)).toEqual([96, 64]);
      expect(readPngText(Buffer.from(image, 'base64'))['parameters']).toBe(info.infotexts[index]);
    });
    expect(info.infotexts[1]).toBe(
      'a red fox, snow: deep\nNegative prompt: blurry\nSteps: 3, Sampler: Euler, Schedule type: Automatic, ' +
        'CFG scale: 7.0, Seed: 78, Size: 96x64, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, ' +
        'Version: f2.0.1v1.10.1-previous-669-gdfdcbab6',
    );
    expect(body.images[0]).not.toBe(body.images[1]);
  });

  it('writes non-Latin-1 infotexts into an iTXt chunk', async () => {
    const { body } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      prompt: '猫',
      steps: 1,
      width: 64,
      height: 64,
    });
    const png = Buffer.from(body.images[0] ?? '', 'base64');
    expect(png.includes(Buffer.from('iTXtparameters'))).toBe(true);
    expect(readPngText(png)['parameters']?.startsWith('猫\n')).toBe(true);
  });

  it('round-trips through png-info', async () => {
    const { body } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      prompt: 'a cat',
      steps: 5,
      width: 64,
      height: 64,
      seed: 3,
      cfg_scale: 6.5,
    });
    const info = await post<{
      info: string;
      items: Record<string, string>;
      parameters: Record<string, unknown>;
    }>(sim, '/sdapi/v1/png-info', { image: `data:image/png;base64,${body.images[0] ?? ''}` });
    expect(info.status).toBe(200);
    expect(info.body.info).toBe(parseInfo(body).infotexts[0]);
    expect(info.body.items).toEqual({});
    expect(info.body.parameters).toMatchObject({
      Prompt: 'a cat',
      'Negative prompt': '',
      Steps: '5',
      Sampler: 'Euler',
      'CFG scale': '6.5',
      Seed: '3',
      'Size-1': '64',
      'Size-2': '64',
      'Clip skip': '1',
      'Schedule type': 'Automatic',
    });
  });
});

describe('extras', () => {
  it('upscales by a factor, keeps the image text, and reports html_info', async () => {
    const source = (
      await post<GenerationBody>(sim, '/sdapi/v1/txt2img', { steps: 1, width: 64, height: 48 })
    ).body.images[0];
    const { status, body } = await post<{ image: string; html_info: string }>(
      sim,
      '/sdapi/v1/extra-single-image',
      {
        image: source,
        upscaler_1: 'R-ESRGAN 4x+',
        upscaling_resize: 2,
      },
    );
    expect(status).toBe(200);
    expect(pngSize(body.image)).toEqual([128, 96]);
    expect(body.html_info).toBe(
      '<p>Postprocess upscale by: 2.0, Postprocess upscaler: R-ESRGAN 4x+</p>',
    );
    expect(readPngText(Buffer.from(body.image, 'base64'))['parameters']).toContain('Steps: 1');
  });

  it('upscales to a box with resize_mode 1, in batches, and rejects unknown upscalers', async () => {
    const source =
      (await post<GenerationBody>(sim, '/sdapi/v1/txt2img', { steps: 1, width: 64, height: 64 }))
        .body.images[0] ?? '';
    const batch = await post<{ images: string[] }>(sim, '/sdapi/v1/extra-batch-images', {
      resize_mode: 1,
      upscaling_resize_w: 200,
      upscaling_resize_h: 100,
      upscaler_1: 'Lanczos',
      imageList: [
        { data: source, name: 'a.png' },
        { data: source, name: 'b.png' },
      ],
    });
    expect(batch.body.images.map(pngSize)).toEqual([
      [200, 100],
      [200, 100],
    ]);
    const unknown = await post(sim, '/sdapi/v1/extra-single-image', {
      image: source,
      upscaler_1: 'Nope',
    });
    expect([unknown.status, unknown.body]).toEqual([
      500,
      {
        error: 'AssertionError',
        detail: '',
        body: '',
        message: 'could not find upscaler named Nope',
      },
    ]);
    const literal = await post<{ detail: Array<{ type: string }> }>(
      sim,
      '/sdapi/v1/extra-single-image',
      { image: source, resize_mode: 2 },
    );
    expect(literal.body.detail[0]?.type).toBe('literal_error');
  });
});

describe('list endpoints', () => {
  it('answer the shapes of forge-api.md §3 and §7', async () => {
    const samplers = (
      await get<Array<{ name: string; aliases: string[]; options: object }>>(
        sim,
        '/sdapi/v1/samplers',
      )
    ).body;
    expect(samplers[0]).toEqual({
      name: 'DPM++ 2M',
      aliases: ['k_dpmpp_2m'],
      options: { scheduler: 'karras' },
    });
    const schedulers = (await get<Array<Record<string, unknown>>>(sim, '/sdapi/v1/schedulers'))
      .body;
    expect(schedulers[0]).toEqual({
      name: 'automatic',
      label: 'Automatic',
      aliases: null,
      default_rho: -1,
      need_inner_model: false,
    });
    const models = (await get<Array<Record<string, unknown>>>(sim, '/sdapi/v1/sd-models')).body;
    expect(Object.keys(models[0] ?? {})).toEqual([
      'title',
      'model_name',
      'hash',
      'sha256',
      'filename',
      'config',
    ]);
    const modules = (await get<Array<Record<string, unknown>>>(sim, '/sdapi/v1/sd-modules')).body;
    expect(modules.map((module) => module['model_name'])).toContain('ae.safetensors');
    const upscalers = (await get<Array<Record<string, unknown>>>(sim, '/sdapi/v1/upscalers')).body;
    expect(Object.keys(upscalers[0] ?? {})).toEqual([
      'name',
      'model_name',
      'model_path',
      'model_url',
      'scale',
    ]);
    expect((await get<unknown[]>(sim, '/sdapi/v1/latent-upscale-modes')).body).toHaveLength(6);
    const loras = (await get<Array<Record<string, unknown>>>(sim, '/sdapi/v1/loras')).body;
    expect(Object.keys(loras[0] ?? {})).toEqual(['name', 'alias', 'path', 'metadata']);
    expect((await get(sim, '/sdapi/v1/embeddings')).body).toEqual({ loaded: {}, skipped: {} });
    const memory = (
      await get<{ ram: Record<string, number>; cuda: unknown }>(sim, '/sdapi/v1/memory')
    ).body;
    expect(memory.cuda).toEqual({ error: 'unavailable' });
    expect(memory.ram['total']).toBeGreaterThan(0);
    const styles = (await get<Array<Record<string, unknown>>>(sim, '/sdapi/v1/prompt-styles')).body;
    expect(Object.keys(styles[0] ?? {})).toEqual(['name', 'prompt', 'negative_prompt']);
    const scriptInfo = (await get<Array<Record<string, unknown>>>(sim, '/sdapi/v1/script-info'))
      .body;
    expect(Object.keys(scriptInfo[0] ?? {})).toEqual(['name', 'is_alwayson', 'is_img2img', 'args']);
    expect((await get(sim, '/sdapi/v1/extensions')).body).toEqual([]);
    const flags = (await get<Record<string, unknown>>(sim, '/sdapi/v1/cmd-flags')).body;
    expect(flags).toMatchObject({ api: true, nowebui: false, api_auth: null });
  });

  it('answer the options with every key and Forge types', async () => {
    const { body, text } = await get<Record<string, unknown>>(sim, '/sdapi/v1/options');
    expect(Object.keys(body).length).toBeGreaterThanOrEqual(150);
    expect(body).toMatchObject({
      samples_format: 'png',
      live_previews_enable: true,
      forge_preset: 'sd',
      forge_unet_storage_dtype: 'Automatic',
    });
    expect(text).toContain('"show_progress_every_n_steps":10.0');
  });

  it('answer the unload/reload and refresh routes as Forge does', async () => {
    expect((await post(sim, '/sdapi/v1/unload-checkpoint')).body).toEqual({});
    expect((await post(sim, '/sdapi/v1/reload-checkpoint')).body).toEqual({});
    for (const path of [
      'refresh-checkpoints',
      'refresh-vae',
      'refresh-embeddings',
      'refresh-loras',
    ]) {
      const response = await post(sim, `/sdapi/v1/${path}`);
      expect([response.status, response.text]).toEqual([200, 'null']);
    }
  });

  it('publish an OpenAPI document listing the routes', async () => {
    const { body } = await get<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
      sim,
      '/openapi.json',
    );
    expect(body.openapi).toBe('3.1.0');
    expect(Object.keys(body.paths['/sdapi/v1/options'] ?? {})).toEqual(['get', 'post']);
    expect(body.paths).toHaveProperty('/sdapi/v1/txt2img.post.requestBody');
  });

  it('gzip large bodies for clients that accept it', async () => {
    const response = await fetch(`${sim.url}/sdapi/v1/options`, {
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(response.headers.get('content-encoding')).toBe('gzip');
    const raw = await fetch(`${sim.url}/sdapi/v1/skip`, {
      method: 'POST',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(raw.headers.get('content-encoding')).toBeNull();
    // fetch decompresses transparently; check the bytes on the wire through node:http too.
    const { request: httpRequest } = await import('node:http');
    const wire = await new Promise<Buffer>((resolve, reject) => {
      const req = httpRequest(
        `${sim.url}/sdapi/v1/options`,
        { headers: { 'accept-encoding': 'gzip' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(JSON.parse(gunzipSync(wire).toString('utf8'))).toHaveProperty('sd_model_checkpoint');
  });
});
