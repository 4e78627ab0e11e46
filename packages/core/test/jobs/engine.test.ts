import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';

import type { EngineEvent } from '../../src/jobs/engine-events.js';
import {
  cleanUp,
  newRig,
  startEngine,
  startSims,
  waitForEvent,
  waitUntilFinished,
} from './engine-helpers.js';

const rig = newRig();
afterEach(() => cleanUp(rig));

const SMALL = { width: 64, height: 64, steps: 2 };

describe('Engine: a job end to end', () => {
  it('runs a txt2img job, stores its images and announces every step in order', async () => {
    const sims = await startSims(rig, 1);
    const { engine, store } = await startEngine(rig, sims);
    const events: EngineEvent[] = [];
    engine.subscribe((event) => events.push(event));
    const done = waitForEvent(engine, 'jobCompleted');
    const { job, created, position } = await engine.submit({
      prompt: 'a red fox',
      width: 64,
      height: 64,
      steps: 4,
      batch_size: 2,
      seed: 1234,
      owner: { id: 'alice', source: 'discord' },
    });
    expect(created).toBe(true);
    expect(position).toBe(0);
    expect(job.status).toBe('queued');
    const completed = (await done).job;
    expect(completed.id).toBe(job.id);
    expect(completed.status).toBe('completed');
    expect(completed.backend).toBe('sim-0');
    const images = completed.result?.images ?? [];
    expect(images.map((image) => image.seed)).toEqual([1234, 1235]);
    const png = await engine.getImage(job.id, 1);
    expect(createHash('sha256').update(png).digest('hex')).toBe(images[1]?.sha256);
    expect((await engine.getThumbnail(job.id, 0)).subarray(1, 4).toString()).toBe('PNG');
    expect((await store.get(job.id))?.status).toBe('completed');
    const types = events
      .filter((event) => 'job' in event && event.job.id === job.id)
      .map((e) => e.type);
    expect(types[0]).toBe('jobQueued');
    expect(types[1]).toBe('jobStarted');
    expect(types.at(-1)).toBe('jobCompleted');
    const sequences = events.map((event) => event.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
  });

  it('resolves a random seed before the job is stored, and reports progress', async () => {
    const sims = await startSims(rig, 1, { stepMs: 15 });
    const { engine } = await startEngine(rig, sims);
    const progress = waitForEvent(engine, 'jobProgress');
    const { job } = await engine.submit({ prompt: 'x', width: 64, height: 64, steps: 10 });
    expect(job.resolved.seed).toBeGreaterThanOrEqual(0);
    expect(job.request.seed).toBe(-1);
    const event = await progress;
    expect(event.progress.percent).toBeGreaterThan(0);
    expect(event.job.id).toBe(job.id);
    const completed = await waitForEvent(engine, 'jobCompleted');
    expect(completed.job.result?.seed).toBe(job.resolved.seed);
  });

  it('rejects bad requests with clear errors and stores nothing', async () => {
    const sims = await startSims(rig, 1);
    const { engine, store } = await startEngine(rig, sims);
    await expect(engine.submit({ prompt: 'x', width: 1004 })).rejects.toMatchObject({
      code: 'FT_ERR_REQUEST_INVALID',
      message: expect.stringMatching(/width: must be a multiple of 8/),
    });
    await expect(engine.submit({ prompt: 'x', sampler: 'Eulerr' })).rejects.toMatchObject({
      code: 'FT_ERR_REQUEST_UNSUPPORTED',
      message: expect.stringMatching(/Euler a/),
    });
    await expect(engine.submit({ prompt: 'x', backend_tags: ['flux'] })).rejects.toMatchObject({
      code: 'FT_ERR_QUEUE_NO_BACKEND',
    });
    await expect(
      engine.submit({
        prompt: 'x',
        init_image: { job_id: 'job_01J0000000000000000000000A', index: 0 },
      }),
    ).rejects.toMatchObject({ code: 'FT_ERR_REQUEST_INVALID', message: /no job has that id/ });
    expect((await store.list({ limit: 10 })).jobs).toEqual([]);
  });

  it('returns the same job for a repeated idempotency key', async () => {
    const sims = await startSims(rig, 1);
    const { engine } = await startEngine(rig, sims);
    const request = { prompt: 'x', width: 64, height: 64, steps: 2, idempotency_key: 'k-1' };
    const first = await engine.submit(request);
    const second = await engine.submit(request);
    expect(second.created).toBe(false);
    expect(second.job.id).toBe(first.job.id);
  });

  it('runs img2img from an earlier job image, and an upscale of it', async () => {
    const sims = await startSims(rig, 1);
    const { engine, store } = await startEngine(rig, sims);
    const base = await engine.submit({ prompt: 'a', width: 64, height: 64, steps: 2 });
    await waitUntilFinished(store, [base.job.id]);
    const reference = { job_id: base.job.id, index: 0 };
    const img2img = await engine.submit({
      prompt: 'b',
      init_image: reference,
      steps: 2,
      width: 64,
      height: 64,
    });
    const upscale = await engine.submit({
      upscale: { source: reference, upscaler: 'Lanczos', scale: 2 },
    });
    const [variant, upscaled] = await waitUntilFinished(store, [img2img.job.id, upscale.job.id]);
    expect(variant?.status).toBe('completed');
    expect(upscaled?.status).toBe('completed');
    expect(upscaled?.result?.images[0]?.width).toBe(128);
  });

  it('expands wildcards with the resolved seed and keeps the trace', async () => {
    const sims = await startSims(rig, 1);
    const seen: { template: string; seed: number }[] = [];
    const { engine } = await startEngine(rig, sims, {
      tuning: {},
      expandPrompt: (template, { seed }) => {
        seen.push({ template, seed });
        return { prompt: template.replace('__color__', 'red'), trace: { seed } };
      },
    });
    const { job } = await engine.submit({ ...SMALL, prompt: 'a __color__ fox', seed: 42 });
    expect(job.resolved.prompt).toBe('a red fox');
    expect(job.request.prompt).toBe('a __color__ fox');
    expect(job.resolved.wildcard_trace).toEqual({
      prompt: { seed: 42 },
      negative_prompt: { seed: 42 },
    });
    const plain = await engine.submit({
      ...SMALL,
      prompt: '__color__',
      wildcards: { enabled: false },
    });
    expect(plain.job.resolved.prompt).toBe('__color__');
    expect(seen.map((call) => call.seed)).toEqual([42, 42]);
  });
});

describe('Engine: queue positions, estimates and previews', () => {
  it('gives every queued job its position and an estimate that grows with it', async () => {
    const sims = await startSims(rig, 1, { stepMs: 10 });
    const { engine } = await startEngine(rig, sims);
    const started = waitForEvent(engine, 'jobStarted');
    const first = await engine.submit({
      ...SMALL,
      prompt: 'running',
      steps: 40,
      owner: { id: 'a' },
    });
    await started;
    const queued = [];
    for (const owner of ['a', 'a', 'b']) {
      queued.push(await engine.submit({ ...SMALL, prompt: owner, owner: { id: owner } }));
    }
    // Fair share: b's only job goes before a's second queued one.
    expect(queued.map((outcome) => outcome.position)).toEqual([0, 1, 0]);
    const estimates = await Promise.all(queued.map((outcome) => engine.estimate(outcome.job.id)));
    expect(estimates.map((estimate) => estimate.position)).toEqual([1, 2, 0]);
    const eta = estimates.map((estimate) => estimate.etaMs ?? -1);
    expect(eta[2]).toBeGreaterThan(0);
    expect(eta[0]).toBeGreaterThan(eta[2]!);
    expect(eta[1]).toBeGreaterThan(eta[0]!);
    const running = await engine.estimate(first.job.id);
    expect(running.status).toBe('running');
    expect(running.position).toBeNull();
    await expect(engine.estimate('job_missing')).rejects.toMatchObject({
      code: 'FT_ERR_JOB_NOT_FOUND',
    });
  });

  it('polls progress with live previews, at most one per preview interval', async () => {
    const sims = await startSims(rig, 1, { stepMs: 10, previewEveryNSteps: 1 });
    const { engine } = await startEngine(rig, sims, { tuning: { previewIntervalMs: 100 } });
    const previews: number[] = [];
    engine.events.on('jobProgress', (event) => {
      if (event.preview !== null) previews.push(event.at);
    });
    const withPreview = waitForEvent(engine, 'jobProgress', (event) => event.preview !== null);
    const { job } = await engine.submit({ ...SMALL, prompt: 'x', steps: 60 });
    const event = await withPreview;
    expect(event.preview?.subarray(1, 4).toString()).toBe('PNG');
    expect(event.progress.hasPreview).toBe(true);
    expect((await engine.getPreview(job.id))?.equals(event.preview!)).toBe(true);
    await waitForEvent(engine, 'jobCompleted');
    // The attempt is forgotten right after its completion is announced.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(await engine.getPreview(job.id)).toBeNull();
    const gaps = previews.slice(1).map((at, index) => at - previews[index]!);
    expect(gaps.every((gap) => gap >= 90)).toBe(true);
  });
});
