import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { createEngine } from '../../src/jobs/create-engine.js';
import type { Engine } from '../../src/jobs/engine.js';
import { cleanUp, newRig, startSims, tempDir, waitForEvent } from './engine-helpers.js';

const rig = newRig();
const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
  await cleanUp(rig);
});

describe('createEngine', () => {
  it('builds a working engine from plain configuration', async () => {
    const [sim] = await startSims(rig, 1);
    const dir = await tempDir(rig);
    const engine = await createEngine({
      backends: [{ name: 'gpu-1', url: sim!.url, tags: ['sd'] }],
      database: { path: join(dir, 'jobs.db') },
      images: { root: join(dir, 'outputs'), retention: { maxAgeMs: 86_400_000 } },
      pipeline: { mode: 'inline' },
      limits: { maxSteps: 10 },
      progressIntervalMs: 20,
    });
    engines.push(engine);
    await expect(engine.submit({ prompt: 'x', steps: 20 })).rejects.toMatchObject({
      code: 'FT_ERR_REQUEST_INVALID',
      message: expect.stringMatching(/steps/),
    });
    const completed = waitForEvent(engine, 'jobCompleted');
    await engine.submit({ prompt: 'x', steps: 2, width: 64, height: 64, backend_tags: ['sd'] });
    expect((await completed).job.backend).toBe('gpu-1');
    expect((await engine.capabilities()).samplers).toContain('Euler a');
    expect(await engine.enforceRetention()).toBe(0);
  });

  it('expands wildcards from the built-in samples and the user folder, and records how', async () => {
    const [sim] = await startSims(rig, 1);
    const dir = await tempDir(rig);
    await mkdir(join(dir, 'wildcards'));
    await writeFile(join(dir, 'wildcards', 'pet.txt'), 'cat\n');
    const engine = await createEngine({
      backends: [{ name: 'gpu-1', url: sim!.url }],
      database: { path: join(dir, 'jobs.db') },
      images: { root: join(dir, 'outputs') },
      pipeline: { mode: 'inline' },
      wildcards: { directory: join(dir, 'wildcards'), watch: false },
    });
    engines.push(engine);

    const { job } = await engine.submit({ prompt: 'a __pet__ in __season__', seed: 7 });

    expect(job.resolved.prompt).toMatch(/^a cat in (spring|summer|autumn|winter)$/);
    expect(job.request.prompt).toBe('a __pet__ in __season__');
    expect(JSON.stringify(job.resolved.wildcard_trace)).toContain('user/pet.txt');
    await expect(engine.submit({ prompt: 'a __nothing_here__' })).rejects.toMatchObject({
      code: 'FT_ERR_WILDCARD_NOT_FOUND',
    });
  });

  it('sends prompts as written when wildcards are off', async () => {
    const [sim] = await startSims(rig, 1);
    const dir = await tempDir(rig);
    const engine = await createEngine({
      backends: [{ name: 'gpu-1', url: sim!.url }],
      database: { path: join(dir, 'jobs.db') },
      images: { root: join(dir, 'outputs') },
      pipeline: { mode: 'inline' },
      wildcards: { enabled: false },
    });
    engines.push(engine);

    const { job } = await engine.submit({ prompt: 'a __season__ {red|blue} sky' });

    expect(job.resolved.prompt).toBe('a __season__ {red|blue} sky');
  });

  it.each([
    [{}, /config\.backends/],
    [{ backends: [] }, /config\.backends must list at least one Forge backend/],
    [
      { backends: [{ name: 'a', url: 'ftp://x' }] },
      /config\.backends\.0\.url must be an http\(s\) URL/,
    ],
    [
      {
        backends: [
          { name: 'a', url: 'http://a:7860' },
          { name: 'a', url: 'http://b:7860' },
        ],
      },
      /different name/,
    ],
    [
      { backends: [{ name: 'a', url: 'http://a:7860' }], maxAttempts: 0 },
      /config\.maxAttempts must be an integer from 1 to 100/,
    ],
    [
      { backends: [{ name: 'a', url: 'http://a:7860' }], jobTimeoutMs: -5 },
      /config\.jobTimeoutMs must be an integer number of milliseconds/,
    ],
    [
      { backends: [{ name: 'a', url: 'http://a:7860' }], pipeline: { mode: 'gpu' } },
      /config\.pipeline\.mode must be 'workers' or 'inline'/,
    ],
    [
      { backends: [{ name: 'a', url: 'http://a:7860' }], queue: {} },
      /config\.queue is not a known option/,
    ],
    [
      { backends: [{ name: 'a', url: 'http://a:7860' }], limits: { maxSteps: 0 } },
      /limits\.maxSteps must be a positive integer/,
    ],
  ])('rejects %j with a message naming the option', async (config, message) => {
    await expect(createEngine(config)).rejects.toMatchObject({
      code: 'FT_ERR_CONFIG_INVALID',
      message: expect.stringMatching(message),
    });
  });
});
