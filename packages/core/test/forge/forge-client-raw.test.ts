// The raw generation calls: 2xx bodies as undecoded bytes, non-2xx answers as the same coded
// errors as the decoding calls, against the simulator.
import { startForgeSim, type ForgeSim, type ForgeSimOptions } from '@forge-tool/forge-sim';
import { afterEach, describe, expect, it } from 'vitest';
import { ForgeClient, HIRES_SAME_MODULES } from '../../src/forge/forge-client.js';
import type { ForgeClientOptions } from '../../src/forge/forge-client-options.js';
import type { Txt2ImgRequest } from '../../src/forge/generation-schemas.js';
import { expectForgeError, isPng, startTinyServer, type TinyServer } from './helpers.js';

const SMALL: Txt2ImgRequest = { prompt: 'a quiet lake', steps: 2, width: 64, height: 64, seed: 9 };

const sims: ForgeSim[] = [];
const clients: ForgeClient[] = [];
const servers: TinyServer[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.destroy()));
  await Promise.all(sims.splice(0).map((sim) => sim.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function clientWith(
  simOptions: ForgeSimOptions = {},
  clientOptions: Partial<ForgeClientOptions> = {},
): Promise<ForgeClient> {
  const sim = await startForgeSim({ port: 0, stepMs: 1, imageMs: 0, loadMs: 0, ...simOptions });
  sims.push(sim);
  const client = new ForgeClient({ baseUrl: sim.url, name: 'gpu-raw', ...clientOptions });
  clients.push(client);
  return client;
}

interface RawGeneration {
  images: string[];
  parameters: Record<string, unknown>;
  info: string;
}

function parseBody<Shape>(body: Uint8Array): Shape {
  return JSON.parse(Buffer.from(body).toString('utf8')) as Shape;
}

function ownsWholeBuffer(bytes: Uint8Array): boolean {
  return (
    bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength
  );
}

describe('txt2imgRaw', () => {
  it('returns the body Forge sent, in an ArrayBuffer of its own', async () => {
    const client = await clientWith();
    const body = await client.txt2imgRaw({ ...SMALL, batch_size: 2 });

    expect(body).toBeInstanceOf(Uint8Array);
    expect(ownsWholeBuffer(body)).toBe(true);
    const parsed = parseBody<RawGeneration>(body);
    expect(parsed.images).toHaveLength(2);
    expect(parsed.images.every((image) => isPng(Buffer.from(image, 'base64')))).toBe(true);
    expect(typeof parsed.info).toBe('string');
    expect(JSON.parse(parsed.info)).toMatchObject({ seed: 9, all_seeds: [9, 10] });
  });

  it('produces the same images as txt2img for the same request', async () => {
    const client = await clientWith();
    const decoded = await client.txt2img(SMALL);
    const raw = parseBody<RawGeneration>(await client.txt2imgRaw(SMALL));
    expect(raw.images.map((image) => Buffer.from(image, 'base64'))).toEqual(decoded.images);
  });

  it('applies the hires workaround', async () => {
    const client = await clientWith();
    const hires = { ...SMALL, enable_hr: true, hr_scale: 2, hr_upscaler: 'Latent' };
    const parsed = parseBody<RawGeneration>(
      await client.txt2imgRaw({ ...hires, denoising_strength: 0.5 }),
    );
    expect(parsed.parameters['hr_additional_modules']).toEqual([HIRES_SAME_MODULES]);
  });

  it('fails a 422 with the same coded error as txt2img', async () => {
    const client = await clientWith();
    const loose = { ...SMALL, steps: 'abc' } as unknown as Txt2ImgRequest;
    const raw = await expectForgeError(client.txt2imgRaw(loose), 'FT_ERR_FORGE_VALIDATION');
    const decoded = await expectForgeError(client.txt2img(loose), 'FT_ERR_FORGE_VALIDATION');
    expect(raw.message).toBe(decoded.message);
    expect(raw.status).toBe(422);
  });

  it('fails Forge exceptions as SERVER and OUT_OF_MEMORY', async () => {
    const client = await clientWith({ faults: { failureRate: 1 } });
    const failed = await expectForgeError(client.txt2imgRaw(SMALL), 'FT_ERR_FORGE_SERVER');
    expect(failed.status).toBe(500);
    sims[0]?.setFaults({ failureRate: 0, oomRate: 1 });
    await expectForgeError(client.txt2imgRaw(SMALL), 'FT_ERR_FORGE_OUT_OF_MEMORY');
  });

  it('times out with the generation deadline or the call timeout', async () => {
    const client = await clientWith({ faults: { hangMs: 2_000 } });
    const error = await expectForgeError(
      client.txt2imgRaw(SMALL, { timeoutMs: 100 }),
      'FT_ERR_FORGE_TIMEOUT',
    );
    expect(error.message).toContain('within 100 ms');
  });

  it('does not check the shape of a 2xx body', async () => {
    const server = await startTinyServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('not json at all');
    });
    servers.push(server);
    const client = new ForgeClient({ baseUrl: server.url, name: 'odd' });
    clients.push(client);
    const body = await client.txt2imgRaw(SMALL);
    expect(Buffer.from(body).toString('utf8')).toBe('not json at all');
  });
});

describe('img2imgRaw and extraSingleImageRaw', () => {
  it('send bytes as base64 and return raw bodies', async () => {
    const client = await clientWith();
    const [init] = (await client.txt2img(SMALL)).images;
    if (init === undefined) throw new Error('the simulator returned no image');

    const img2img = parseBody<RawGeneration>(
      await client.img2imgRaw({ ...SMALL, init_images: [init], denoising_strength: 0.5 }),
    );
    expect(img2img.images).toHaveLength(1);
    expect(JSON.parse(img2img.info)).toMatchObject({ denoising_strength: 0.5 });

    const extras = await client.extraSingleImageRaw({ image: init, upscaling_resize: 2 });
    expect(ownsWholeBuffer(extras)).toBe(true);
    const parsed = parseBody<{ image: string; html_info: string }>(extras);
    expect(isPng(Buffer.from(parsed.image, 'base64'))).toBe(true);
    expect(typeof parsed.html_info).toBe('string');
  });

  it('fail img2img without an init image as NOT_FOUND', async () => {
    const client = await clientWith();
    const error = await expectForgeError(
      client.img2imgRaw({ prompt: 'x', steps: 2 }),
      'FT_ERR_FORGE_NOT_FOUND',
    );
    expect(error.forgeReason).toBe('Init image not found');
  });
});
