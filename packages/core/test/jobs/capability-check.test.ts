// The capability check against capabilities probed from the simulator.
import { startForgeSim, type ForgeSim } from '@forge-tool/forge-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isForgeToolError } from '../../src/errors.js';
import { probeCapabilities } from '../../src/forge/capability-probe.js';
import { ForgeCapabilities } from '../../src/forge/forge-capabilities.js';
import { ForgeClient } from '../../src/forge/forge-client.js';
import {
  applyBackendFit,
  checkAgainstCapabilities,
  listNames,
} from '../../src/jobs/capability-check.js';
import { buildForgeCall } from '../../src/jobs/forge-payload.js';
import { parseGenerationRequest } from '../../src/jobs/generation-request.js';
import { RequestError, type RequestIssue } from '../../src/jobs/request-error.js';

const JOB_ID = 'job_01JF3Q6Z8D5KX0W2R9B7C4M1TA';

let sim: ForgeSim;
let client: ForgeClient;
let caps: ForgeCapabilities;

beforeAll(async () => {
  sim = await startForgeSim({ port: 0, stepMs: 1, imageMs: 1, loadMs: 1 });
  client = new ForgeClient({ baseUrl: sim.url, name: 'sim-a' });
  caps = await probeCapabilities(client);
});

afterAll(async () => {
  await client.close();
  await sim.close();
});

/** A second backend made from the probed one, with some lists cut down. */
function variant(backend: string, changes: Partial<ReturnType<ForgeCapabilities['toJSON']>>) {
  return new ForgeCapabilities({ ...caps.toJSON(), backend, ...changes });
}

function request(fields: Record<string, unknown>) {
  return parseGenerationRequest({ prompt: 'a lighthouse', ...fields });
}

function unsupported(run: () => unknown): RequestIssue[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).code).toBe('FT_ERR_REQUEST_UNSUPPORTED');
    expect((error as RequestError).statusCode).toBe(422);
    return [...(error as RequestError).issues];
  }
  throw new Error('expected FT_ERR_REQUEST_UNSUPPORTED');
}

describe('checkAgainstCapabilities', () => {
  it('accepts a request with no names and keeps the backend defaults', () => {
    const check = checkAgainstCapabilities(request({}), [caps]);
    expect(check.backends).toEqual(['sim-a']);
    expect(check.fits).toEqual([
      { backend: 'sim-a', sampler: null, scheduler: null, checkpoint: null, modules: null },
    ]);
  });

  it('returns the canonical names Forge knows', () => {
    const check = checkAgainstCapabilities(
      request({
        sampler: 'k_euler_a',
        scheduler: 'KARRAS',
        checkpoint: 'sd_xl_base_1.0',
        modules: ['ae', 'clip_l.safetensors'],
        styles: ['Cinematic'],
      }),
      [caps],
    );
    expect(check.fits[0]).toEqual({
      backend: 'sim-a',
      sampler: 'Euler a',
      scheduler: 'karras',
      checkpoint: 'sd_xl_base_1.0.safetensors [31e35c80fc]',
      modules: [
        '/opt/forge/models/VAE/ae.safetensors',
        '/opt/forge/models/text_encoder/clip_l.safetensors',
      ],
    });
  });

  it('splits a legacy sampler name into sampler and scheduler', () => {
    const [fit] = checkAgainstCapabilities(request({ sampler: 'DPM++ 2M Karras' }), [caps]).fits;
    expect([fit?.sampler, fit?.scheduler]).toEqual(['DPM++ 2M', 'karras']);
    const explicit = request({ sampler: 'DPM++ 2M Karras', scheduler: 'exponential' });
    expect(checkAgainstCapabilities(explicit, [caps]).fits[0]?.scheduler).toBe('exponential');
  });

  it('rejects an unknown sampler with the sorted list of valid names', () => {
    const [issue, ...rest] = unsupported(() =>
      checkAgainstCapabilities(request({ sampler: 'Euler b' }), [caps]),
    );
    expect(rest).toEqual([]);
    expect(issue?.field).toBe('sampler');
    expect(issue?.message).toMatch(
      /^"Euler b" is not known to any backend; valid: DDIM, DDIM CFG\+\+, DDPM, DEIS/,
    );
    expect(issue?.message).toContain('Euler a');
  });

  it('rejects every unknown name at once, each with its own list', () => {
    const issues = unsupported(() =>
      checkAgainstCapabilities(
        request({
          scheduler: 'wobbly',
          checkpoint: 'sd_xl_base_1.0.SAFETENSORS',
          modules: ['vae-x'],
          styles: ['Anime', 'Noir'],
          hires: { upscaler: 'Latent (fancy)' },
        }),
        [caps],
      ),
    );
    expect(issues.map((issue) => issue.field)).toEqual([
      'scheduler',
      'checkpoint',
      'modules[0]',
      'styles[1]',
      'hires.upscaler',
    ]);
    expect(issues[1]?.message).toContain('sd_xl_base_1.0.safetensors [31e35c80fc]');
    expect(issues[3]?.message).toBe(
      '"Noir" is not known to any backend; valid: Anime, Cinematic, Photorealistic',
    );
    expect(issues[4]?.message).toContain('Latent (nearest-exact)');
    expect(issues[4]?.message).toContain('R-ESRGAN 4x+');
  });

  it('accepts latent modes for hires but not for the extras upscaler', () => {
    expect(() =>
      checkAgainstCapabilities(request({ hires: { upscaler: 'Latent (bicubic)' } }), [caps]),
    ).not.toThrow();
    const upscale = parseGenerationRequest({
      upscale: { source: { job_id: JOB_ID, index: 0 }, upscaler: 'Latent', upscaler_2: 'Nope' },
    });
    const issues = unsupported(() => checkAgainstCapabilities(upscale, [caps]));
    expect(issues.map((issue) => issue.field)).toEqual(['upscale.upscaler', 'upscale.upscaler_2']);
    expect(issues[0]?.message).not.toContain('Latent (bicubic)');
    expect(issues[0]?.message).toContain('SwinIR 4x');
  });

  it('lists the backends that can run the request, and the union of names', () => {
    const noXl = variant('sim-b', {
      checkpoints: caps.checkpoints.filter((model) => !model.title.startsWith('sd_xl')),
      styles: [...caps.styles, { name: 'Noir', prompt: '{prompt}, noir', negative_prompt: null }],
    });
    const xl = request({ checkpoint: 'sd_xl_base_1.0' });
    expect(checkAgainstCapabilities(xl, [caps, noXl]).backends).toEqual(['sim-a']);
    expect(checkAgainstCapabilities(request({}), [caps, noXl]).backends).toEqual([
      'sim-a',
      'sim-b',
    ]);
    const noir = request({ styles: ['Noir'] });
    expect(checkAgainstCapabilities(noir, [caps, noXl]).backends).toEqual(['sim-b']);

    const both = request({ checkpoint: 'sd_xl_base_1.0', styles: ['Noir'] });
    const [issue] = unsupported(() => checkAgainstCapabilities(both, [caps, noXl]));
    expect(issue).toEqual({
      field: 'request',
      message:
        'no single backend has everything this request names (sim-a lacks styles[0] "Noir"; ' +
        'sim-b lacks checkpoint "sd_xl_base_1.0")',
    });
  });

  it('fails with FT_ERR_QUEUE_NO_BACKEND without capabilities', () => {
    expect(() => checkAgainstCapabilities(request({}), [])).toThrow(
      expect.objectContaining({ code: 'FT_ERR_QUEUE_NO_BACKEND' }),
    );
    let caught: unknown;
    try {
      checkAgainstCapabilities(request({}), []);
    } catch (error) {
      caught = error;
    }
    expect(isForgeToolError(caught, 'FT_ERR_QUEUE_NO_BACKEND')).toBe(true);
  });

  it('makes Forge run exactly what was asked once the names are applied', async () => {
    const asked = request({
      sampler: 'euler A',
      scheduler: 'Karras',
      checkpoint: 'counterfeitV30_v30',
      width: 64,
      height: 64,
      steps: 2,
    });
    const [fit] = checkAgainstCapabilities(asked, [caps]).fits;
    if (fit === undefined) throw new Error('expected a fit');
    const call = buildForgeCall({ ...applyBackendFit(asked, fit), seed: 5, wildcard_trace: null });
    if (call.endpoint !== 'txt2img') throw new Error('expected a txt2img call');
    const result = await client.txt2img(call.body);
    expect(result.info.sampler_name).toBe('Euler a');
    expect(result.info.extra_generation_params['Schedule type']).toBe('Karras');
    expect(result.info.sd_model_name).toBe('counterfeitV30_v30');
    expect(fit.checkpoint).toBe('anime/counterfeitV30_v30.safetensors [bcaf256a67]');
  });
});

describe('listNames', () => {
  it('sorts, deduplicates and cuts long lists with a count', () => {
    expect(listNames(['b', 'a', 'b'])).toBe('a, b');
    expect(listNames([])).toBe('(none)');
    const many = Array.from({ length: 30 }, (_, index) => `n${String(index).padStart(2, '0')}`);
    expect(listNames(many)).toBe(`${many.slice(0, 25).join(', ')} ... and 5 more`);
  });
});
