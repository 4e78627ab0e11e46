/**
 * forge-api.md §1 (auth) and §6: every error body shape, byte-exact where it matters.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { ForgeSim } from '../../src/index.js';
import { get, post, request, startFastSim, type GenerationBody } from '../helpers/sim-client.js';

const URL_PREFIX = 'https://errors.pydantic.dev/2.8/v/';

describe('validation errors (422)', () => {
  let sim: ForgeSim;
  beforeAll(async () => {
    sim = await startFastSim();
  });
  afterAll(() => sim.close());

  it('collects every field error in field order, in pydantic 2.8 shape', async () => {
    const { status, text } = await post(sim, '/sdapi/v1/txt2img', {
      width: 20.5,
      steps: 'abc',
      restore_faces: 'perhaps',
      styles: ['ok', 3],
      sampler_index: null,
      cfg_scale: 'x',
    });
    expect(status).toBe(422);
    expect(JSON.parse(text)).toEqual({
      detail: [
        {
          type: 'string_type',
          loc: ['body', 'styles', 1],
          msg: 'Input should be a valid string',
          input: 3,
          url: `${URL_PREFIX}string_type`,
        },
        {
          type: 'int_parsing',
          loc: ['body', 'steps'],
          msg: 'Input should be a valid integer, unable to parse string as an integer',
          input: 'abc',
          url: `${URL_PREFIX}int_parsing`,
        },
        {
          type: 'float_parsing',
          loc: ['body', 'cfg_scale'],
          msg: 'Input should be a valid number, unable to parse string as a number',
          input: 'x',
          url: `${URL_PREFIX}float_parsing`,
        },
        {
          type: 'int_from_float',
          loc: ['body', 'width'],
          msg: 'Input should be a valid integer, got a number with a fractional part',
          input: 20.5,
          url: `${URL_PREFIX}int_from_float`,
        },
        {
          type: 'bool_parsing',
          loc: ['body', 'restore_faces'],
          msg: 'Input should be a valid boolean, unable to interpret input',
          input: 'perhaps',
          url: `${URL_PREFIX}bool_parsing`,
        },
        {
          type: 'string_type',
          loc: ['body', 'sampler_index'],
          msg: 'Input should be a valid string',
          input: null,
          url: `${URL_PREFIX}string_type`,
        },
      ],
    });
  });

  it('reports malformed JSON as json_invalid with Python positions', async () => {
    const { status, body } = await post(sim, '/sdapi/v1/txt2img', '{"steps": 20,}');
    expect(status).toBe(422);
    expect(body).toEqual({
      detail: [
        {
          type: 'json_invalid',
          loc: ['body', 13],
          msg: 'JSON decode error',
          input: {},
          ctx: { error: 'Expecting property name enclosed in double quotes' },
        },
      ],
    });
  });

  it('asks for the body when there is none', async () => {
    const { status, body } = await request(sim, 'POST', '/sdapi/v1/txt2img');
    expect(status).toBe(422);
    expect(body).toEqual({
      detail: [
        {
          type: 'missing',
          loc: ['body'],
          msg: 'Field required',
          input: null,
          url: `${URL_PREFIX}missing`,
        },
      ],
    });
  });
});

describe('Forge HTTPException bodies ({"detail": ...})', () => {
  let sim: ForgeSim;
  beforeAll(async () => {
    sim = await startFastSim();
  });
  afterAll(() => sim.close());

  it('404 when img2img has no init image', async () => {
    const { status, body } = await post(sim, '/sdapi/v1/img2img', { steps: 1 });
    expect(status).toBe(404);
    expect(body).toEqual({ detail: 'Init image not found' });
  });

  it('500 for an undecodable image', async () => {
    const { status, body } = await post(sim, '/sdapi/v1/img2img', {
      init_images: ['not an image'],
      steps: 1,
    });
    expect(status).toBe(500);
    expect(body).toEqual({ detail: 'Invalid encoded image' });
  });

  it('422 for unknown scripts, and for a selectable script among the always-on ones', async () => {
    const unknown = await post(sim, '/sdapi/v1/txt2img', { steps: 1, script_name: 'nope' });
    expect(unknown.status).toBe(422);
    expect(unknown.body).toEqual({ detail: "Script 'nope' not found" });
    const lora = await post(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      alwayson_scripts: { Lora: { args: [] } },
    });
    expect(lora.body).toEqual({ detail: "Script 'Lora' not found" });
    const selectable = await post(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      alwayson_scripts: { 'X/Y/Z plot': {} },
    });
    expect(selectable.status).toBe(422);
    expect(selectable.body).toEqual({
      detail: 'Cannot have a selectable script in the always on scripts params',
    });
  });

  it('404 for an unknown interrogate model', async () => {
    const image = (
      await post<GenerationBody>(sim, '/sdapi/v1/txt2img', { steps: 1, width: 64, height: 64 })
    ).body.images[0];
    const { status, body } = await post(sim, '/sdapi/v1/interrogate', { image, model: 'blip' });
    expect(status).toBe(404);
    expect(body).toEqual({ detail: 'Model not found' });
  });

  it('404 and 405 for unknown routes and wrong methods', async () => {
    const missing = await get(sim, '/sdapi/v1/nothing');
    expect([missing.status, missing.body]).toEqual([404, { detail: 'Not Found' }]);
    const wrong = await get(sim, '/sdapi/v1/txt2img');
    expect([wrong.status, wrong.body]).toEqual([405, { detail: 'Method Not Allowed' }]);
    expect(wrong.headers.get('allow')).toBe('POST');
  });
});

describe('Forge exception bodies ({"error", "detail", "body", "message"})', () => {
  let sim: ForgeSim;
  beforeAll(async () => {
    sim = await startFastSim();
  });
  afterAll(() => sim.close());

  const exception = (error: string, message: string) => ({ error, detail: '', body: '', message });

  it('KeyError for an unknown option, RuntimeError for an unknown checkpoint', async () => {
    const key = await post(sim, '/sdapi/v1/options', { foo: 1 });
    expect([key.status, key.body]).toEqual([500, exception('KeyError', "'foo'")]);
    const model = await post(sim, '/sdapi/v1/options', { sd_model_checkpoint: 'nope' });
    expect([model.status, model.body]).toEqual([
      500,
      exception('RuntimeError', "model 'nope' not found"),
    ]);
  });

  it('Exception for an unknown hires upscaler', async () => {
    const { status, body } = await post(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      width: 64,
      height: 64,
      enable_hr: true,
      denoising_strength: 0.5,
      hr_additional_modules: [],
      hr_upscaler: 'Magic 9x',
    });
    expect([status, body]).toEqual([
      500,
      exception('Exception', 'could not find upscaler named Magic 9x'),
    ]);
  });

  it("TypeError for hires without hr_additional_modules (Forge's own bug)", async () => {
    const { status, body } = await post(sim, '/sdapi/v1/txt2img', {
      steps: 2,
      width: 64,
      height: 64,
      enable_hr: true,
      denoising_strength: 0.5,
    });
    expect([status, body]).toEqual([
      500,
      exception('TypeError', "argument of type 'NoneType' is not iterable"),
    ]);
  });

  it('RuntimeError for more init images than batch_size', async () => {
    const image = (
      await post<GenerationBody>(sim, '/sdapi/v1/txt2img', { steps: 1, width: 64, height: 64 })
    ).body.images[0];
    const { status, body } = await post(sim, '/sdapi/v1/img2img', {
      init_images: [image, image, image],
      batch_size: 2,
      steps: 1,
      width: 64,
      height: 64,
    });
    expect([status, body]).toEqual([
      500,
      exception('RuntimeError', 'bad number of images passed: 3; expecting 2 or less'),
    ]);
  });

  it('OutOfMemoryError for a batch too large for the card', async () => {
    const { status, body } = await post<Record<string, string>>(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      width: 4096,
      height: 4096,
      batch_size: 2,
    });
    expect(status).toBe(500);
    expect(body['error']).toBe('OutOfMemoryError');
    expect(body['message']).toMatch(/^CUDA out of memory\. Tried to allocate [\d.]+ GiB\./);
  });
});

describe('--api-auth (HTTP Basic)', () => {
  let sim: ForgeSim;
  afterEach(() => sim.close());
  const basic = (credentials: string) => ({
    authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
  });

  it('answers 401 with the exact bodies and the challenge header', async () => {
    sim = await startFastSim({ apiAuth: 'alice:secret,bob:hunter2' });
    const none = await get(sim, '/sdapi/v1/options');
    expect([none.status, none.body]).toEqual([401, { detail: 'Not authenticated' }]);
    expect(none.headers.get('www-authenticate')).toBe('Basic');
    const garbled = await get(sim, '/sdapi/v1/options', { authorization: 'Basic bm9jb2xvbg==' });
    expect([garbled.status, garbled.body]).toEqual([
      401,
      { detail: 'Invalid authentication credentials' },
    ]);
    const wrong = await get(sim, '/sdapi/v1/options', basic('alice:nope'));
    expect([wrong.status, wrong.body]).toEqual([401, { detail: 'Incorrect username or password' }]);
    expect(wrong.headers.get('www-authenticate')).toBe('Basic');
    expect((await get(sim, '/sdapi/v1/options', basic('bob:hunter2'))).status).toBe(200);
  });

  it('does not guard the LoRA routes or /internal, and 401 beats 422 but not json_invalid', async () => {
    sim = await startFastSim({ apiAuth: 'alice:secret' });
    expect((await get(sim, '/sdapi/v1/loras')).status).toBe(200);
    expect((await post(sim, '/sdapi/v1/refresh-loras')).status).toBe(200);
    expect((await get(sim, '/internal/ping')).status).toBe(200);
    expect((await post(sim, '/sdapi/v1/txt2img', { steps: 'abc' })).status).toBe(401);
    expect((await post(sim, '/sdapi/v1/txt2img', '{bad')).status).toBe(422);
  });

  it('refuses to start with a malformed apiAuth', async () => {
    sim = await startFastSim();
    await expect(startFastSim({ apiAuth: 'nocolon' })).rejects.toThrow(/exactly one colon/);
  });
});
