// The image pipeline end to end: real simulator bodies, real worker threads, coded errors that
// cross the thread boundary.
import { createHash } from 'node:crypto';

import { startForgeSim, type ForgeSim } from '@forge-tool/forge-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, ForgeToolError } from '../../src/errors.js';
import { ForgeClient } from '../../src/forge/forge-client.js';
import {
  DEFAULT_IMAGE_PIPELINE_OPTIONS,
  ImagePipeline,
  ImageProcessingError,
  type ImagePipelineOptions,
} from '../../src/images/image-pipeline.js';
import { JOB_ID_KEYWORD, runImageTask } from '../../src/images/image-worker.js';
import { readPngSize, readPngTextChunks } from '../../src/images/png-text.js';
import { encodeFilteredPng } from './filtered-png.js';

let sim: ForgeSim;
let forge: ForgeClient;
let workers: ImagePipeline;
let inline: ImagePipeline;
/** A txt2img body of four 1024x1024 images, kept as a pristine copy. */
let bigBatch: Uint8Array;
/** A txt2img body of two 64x64 images. */
let smallBatch: Uint8Array;

beforeAll(async () => {
  sim = await startForgeSim({ port: 0, stepMs: 0, imageMs: 0, loadMs: 0 });
  forge = new ForgeClient({ baseUrl: sim.url, name: 'sim-images' });
  // Every body to the pool here, however small: these tests are about the worker path.
  workers = new ImagePipeline({ mode: 'workers', threads: 2, inlineBelowBytes: 0 });
  inline = new ImagePipeline({ mode: 'inline' });
  const request = { prompt: 'a lighthouse at dusk', steps: 1, seed: 100 };
  bigBatch = await forge.txt2imgRaw({ ...request, width: 1024, height: 1024, batch_size: 4 });
  smallBatch = await forge.txt2imgRaw({ ...request, width: 64, height: 64, batch_size: 2 });
});

afterAll(async () => {
  await workers.close();
  await inline.close();
  await forge.close();
  await sim.close();
});

const copy = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

interface GenerationBody {
  images: string[];
  parameters: Record<string, unknown>;
  info: string;
}

function parse(body: Uint8Array): GenerationBody {
  return JSON.parse(Buffer.from(body).toString('utf8')) as GenerationBody;
}

function encode(body: unknown): Uint8Array {
  return new Uint8Array(Buffer.from(JSON.stringify(body)));
}

async function rejection(promise: Promise<unknown>): Promise<ImageProcessingError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ImageProcessingError);
  expect(error).toBeInstanceOf(ForgeToolError);
  return error as ImageProcessingError;
}

describe('a 1024x1024 batch of 4 through worker threads', () => {
  it('tags, hashes and previews every image, with seeds and infotexts', async () => {
    const jobId = 'job_01JTESTBIGBATCH';
    const original = parse(bigBatch);
    const result = await workers.processGeneration(copy(bigBatch), { jobId });

    const info = JSON.parse(original.info) as { all_seeds: number[]; infotexts: string[] };
    expect(result.info.all_seeds).toEqual(info.all_seeds);
    expect(result.parameters).toEqual(original.parameters);
    expect(result.images).toHaveLength(4);
    for (const [index, image] of result.images.entries()) {
      expect(image.sha256).toBe(createHash('sha256').update(image.png).digest('hex'));
      expect({ width: image.width, height: image.height }).toEqual({ width: 1024, height: 1024 });
      expect(readPngSize(image.thumbnail)).toEqual({ width: 256, height: 256 });
      expect(image.seed).toBe(info.all_seeds[index]);
      expect(image.grid).toBe(false);

      const sourceText = readPngTextChunks(Buffer.from(original.images[index] ?? '', 'base64'));
      const sourceParameters = sourceText.find(({ keyword }) => keyword === 'parameters')?.text;
      const text = readPngTextChunks(image.png);
      expect(text.find(({ keyword }) => keyword === 'parameters')?.text).toBe(sourceParameters);
      expect(text.find(({ keyword }) => keyword === JOB_ID_KEYWORD)?.text).toBe(jobId);
      expect(image.infotext).toBe(sourceParameters);
      expect(image.infotext).toBe(info.infotexts[index]);
    }
  });

  it('runs on worker threads, not the main thread', async () => {
    const before = workers.stats().completedInWorkers;
    await workers.processGeneration(copy(smallBatch), { jobId: 'job_threads' });
    const stats = workers.stats();
    expect(stats.mode).toBe('workers');
    expect(stats.completedInWorkers).toBe(before + 1);
    expect(stats.completedInline).toBe(0);
    expect(stats.liveThreads).toBeGreaterThanOrEqual(1);
    expect(stats.threadIds.every((threadId) => threadId > 0)).toBe(true);
  });

  it('keeps small results on the calling thread by default, and sends large ones to the pool', async () => {
    const pipeline = new ImagePipeline({ mode: 'workers', threads: 1 });
    try {
      expect(smallBatch.byteLength).toBeLessThan(DEFAULT_IMAGE_PIPELINE_OPTIONS.inlineBelowBytes);
      expect(bigBatch.byteLength).toBeGreaterThan(DEFAULT_IMAGE_PIPELINE_OPTIONS.inlineBelowBytes);
      await pipeline.processGeneration(copy(smallBatch), { jobId: 'job_small' });
      await pipeline.processGeneration(copy(bigBatch), { jobId: 'job_big' });
      expect(pipeline.stats()).toMatchObject({ completedInline: 1, completedInWorkers: 1 });
    } finally {
      await pipeline.close();
    }
  });

  it('moves the body to the worker instead of copying it', async () => {
    const body = copy(smallBatch);
    await workers.processGeneration(body, { jobId: 'job_moved' });
    expect(body.byteLength).toBe(0);
  });

  it('copies a body that shares its ArrayBuffer, leaving the neighbours intact', async () => {
    const shared = new Uint8Array(smallBatch.byteLength + 8);
    shared.set(smallBatch, 4);
    const view = shared.subarray(4, 4 + smallBatch.byteLength);
    const result = await workers.processGeneration(view, { jobId: 'job_shared' });
    expect(result.images).toHaveLength(2);
    expect(shared.byteLength).toBe(smallBatch.byteLength + 8);
  });

  it('gives the same bytes inline as on the workers', async () => {
    const onWorkers = await workers.processGeneration(copy(smallBatch), { jobId: 'job_same' });
    const onMain = await inline.processGeneration(copy(smallBatch), { jobId: 'job_same' });
    expect(onMain.images.map((image) => image.sha256)).toEqual(
      onWorkers.images.map((image) => image.sha256),
    );
    expect(onMain.images[0]?.thumbnail).toEqual(onWorkers.images[0]?.thumbnail);
    expect(inline.stats()).toMatchObject({ mode: 'inline', completedInline: 1, liveThreads: 0 });
  });
});

describe('upscale results', () => {
  it('processes the single image of an extras answer', async () => {
    const source = await forge.txt2img({ prompt: 'a fox', steps: 1, width: 64, height: 64 });
    const [image] = source.images;
    if (image === undefined) throw new Error('the simulator returned no image');
    const request = { image, upscaling_resize: 2, upscaler_1: 'Lanczos' };
    const body = await forge.extraSingleImageRaw(request);

    const result = await workers.processUpscale(body, { jobId: 'job_upscale' });
    expect(result.image).toMatchObject({ width: 128, height: 128, seed: null, grid: false });
    expect(readPngSize(result.image.thumbnail)).toEqual({ width: 128, height: 128 });
    expect(typeof result.htmlInfo).toBe('string');
    const text = readPngTextChunks(result.image.png);
    expect(text.find(({ keyword }) => keyword === JOB_ID_KEYWORD)?.text).toBe('job_upscale');
  });
});

describe("Forge's grid rule", () => {
  it('marks a prepended grid and shifts the seeds by index_of_first_image', async () => {
    const body = parse(smallBatch);
    const info = JSON.parse(body.info) as Record<string, unknown> & {
      all_seeds: number[];
      infotexts: string[];
    };
    const [first] = body.images;
    const withGrid = {
      ...body,
      images: [first, ...body.images],
      info: JSON.stringify({
        ...info,
        index_of_first_image: 1,
        infotexts: [info.infotexts[0], ...info.infotexts],
      }),
    };
    const result = await inline.processGeneration(encode(withGrid), { jobId: 'job_grid' });
    expect(result.images.map((image) => image.grid)).toEqual([true, false, false]);
    expect(result.images.map((image) => image.seed)).toEqual([
      info.all_seeds[0],
      info.all_seeds[0],
      info.all_seeds[1],
    ]);
  });
});

describe('failures cross the thread boundary as coded errors', () => {
  it('reports corrupted base64 as BAD_RESPONSE naming the image', async () => {
    const body = parse(smallBatch);
    const broken = { ...body, images: [body.images[0], `${body.images[1]?.slice(0, -8)}%%%%====`] };
    const error = await rejection(workers.processGeneration(encode(broken), { jobId: 'job_b64' }));
    expect(error.code).toBe('FT_ERR_FORGE_BAD_RESPONSE');
    expect(error.imageIndex).toBe(1);
    expect(error.jobId).toBe('job_b64');
    expect(error.message).toContain('job_b64');
    expect(error.message).toContain('images[1]: is not base64 image data');
  });

  it('reports a broken PNG as PNG_INVALID naming the image', async () => {
    const body = parse(smallBatch);
    const png = Buffer.from(body.images[0] ?? '', 'base64');
    png[18] = (png[18] ?? 0) ^ 0xff;
    const broken = { ...body, images: [body.images[1], png.toString('base64')] };
    const error = await rejection(workers.processGeneration(encode(broken), { jobId: 'job_png' }));
    expect(error.code).toBe('FT_ERR_PNG_INVALID');
    expect(error.imageIndex).toBe(1);
    expect(error.message).toMatch(
      /^image 1 of job job_png: PNG chunk IHDR at offset 8 fails its CRC/,
    );
  });

  it('reports a body that is not a PNG at all', async () => {
    const body = parse(smallBatch);
    const broken = { ...body, images: [Buffer.from('GIF89a....').toString('base64')] };
    const error = await rejection(workers.processGeneration(encode(broken), { jobId: 'job_gif' }));
    expect(error.code).toBe('FT_ERR_PNG_INVALID');
    expect(error.message).toContain('not a PNG');
  });

  it('reports the wrong JSON shape and a non-JSON body as BAD_RESPONSE', async () => {
    const wrongShape = encode({ images: [], parameters: {}, info: '{"seed": "x"}' });
    const shape = await rejection(workers.processGeneration(wrongShape, { jobId: 'job_shape' }));
    expect(shape.code).toBe('FT_ERR_FORGE_BAD_RESPONSE');
    expect(shape.imageIndex).toBeNull();
    expect(shape.message).toMatch(/is not what the Forge API returns: info\.\w+: /);

    const html = new Uint8Array(Buffer.from('<html>502 Bad Gateway</html>'));
    const notJson = await rejection(workers.processGeneration(html, { jobId: 'job_html' }));
    expect(notJson.code).toBe('FT_ERR_FORGE_BAD_RESPONSE');
    expect(notJson.message).toContain(
      'is not JSON: got a body starting "<html>502 Bad Gateway</html>"',
    );

    const upscale = await rejection(workers.processUpscale(copy(smallBatch), { jobId: 'job_up' }));
    expect(upscale.code).toBe('FT_ERR_FORGE_BAD_RESPONSE');
    expect(upscale.message).toContain("Forge's upscale answer for job job_up");
  });

  it('reports an interlaced PNG as IMAGE_PROCESSING naming the image', async () => {
    const body = parse(smallBatch);
    const interlaced = encodeFilteredPng({
      width: 4,
      height: 4,
      colorType: 2,
      bitDepth: 8,
      scanlines: new Uint8Array(48),
      filters: [0],
      interlace: 1,
    });
    const broken = { ...body, images: [body.images[0], interlaced.toString('base64')] };
    const error = await rejection(
      workers.processGeneration(encode(broken), { jobId: 'job_adam7' }),
    );
    expect(error.code).toBe('FT_ERR_IMAGE_PROCESSING');
    expect(error.imageIndex).toBe(1);
    expect(error.message).toMatch(/^image 1 of job job_adam7: interlaced \(Adam7\) PNGs/);
  });

  it('turns an unexpected failure into IMAGE_PROCESSING with the image index', () => {
    const outcome = runImageTask({
      op: 'generation',
      body: copy(smallBatch),
      jobId: 'job_odd',
      thumbnailSidePx: Number.NaN,
    });
    expect(outcome).toEqual({
      ok: false,
      failure: {
        code: 'FT_ERR_IMAGE_PROCESSING',
        imageIndex: 0,
        message: expect.stringMatching(
          /^image 0 of job job_odd could not be processed: cannot area-average/,
        ),
      },
    });
  });

  it('keeps working after failures', async () => {
    const result = await workers.processGeneration(copy(smallBatch), { jobId: 'job_after' });
    expect(result.images).toHaveLength(2);
  });
});

describe('arguments and options', () => {
  it('rejects a bad job id and a body that is not bytes', async () => {
    const badId = await rejection(inline.processGeneration(copy(smallBatch), { jobId: '' }));
    expect(badId.code).toBe('FT_ERR_IMAGE_PROCESSING');
    expect(badId.message).toContain('jobId must be 1-200 printable ASCII characters, got ""');
    const notBytes = 'text' as unknown as Uint8Array;
    const badBody = await rejection(inline.processGeneration(notBytes, { jobId: 'job_x' }));
    expect(badBody.message).toContain('body must be a Uint8Array or Buffer, got string');
  });

  it('names every bad option', () => {
    const bad = { mode: 'gpu', threads: 0, idleTimeoutMs: -1, thumbnailSidePx: 1.5 };
    expect(() => new ImagePipeline(bad as unknown as ImagePipelineOptions)).toThrow(ConfigError);
    expect(() => new ImagePipeline(bad as unknown as ImagePipelineOptions)).toThrow(
      "options.mode must be 'workers' or 'inline', got gpu; " +
        'options.threads must be an integer from 1 to 256, got 0; ' +
        'options.idleTimeoutMs must be an integer from 0 to 2147483647, got -1; ' +
        'options.thumbnailSidePx must be an integer from 1 to 4096, got 1.5',
    );
  });

  it('refuses work after close, and closes twice without harm', async () => {
    const pipeline = new ImagePipeline({ mode: 'workers', threads: 1 });
    await pipeline.close();
    await pipeline.close();
    const error = await rejection(pipeline.processGeneration(copy(smallBatch), { jobId: 'job_c' }));
    expect(error.message).toBe('the image pipeline is closed');
  });

  it('makes previews of the size asked for', async () => {
    const small = new ImagePipeline({ mode: 'inline', thumbnailSidePx: 16 });
    const result = await small.processGeneration(copy(smallBatch), { jobId: 'job_16' });
    expect(readPngSize(result.images[0]?.thumbnail ?? Buffer.alloc(0))).toEqual({
      width: 16,
      height: 16,
    });
    await small.close();
  });
});
