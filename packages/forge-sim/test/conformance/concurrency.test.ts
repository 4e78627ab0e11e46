/**
 * forge-api.md §2: one generation at a time behind a FIFO lock, unlocked routes answering
 * during a generation, interrupt and skip semantics.
 */
import { afterEach, describe, expect, it } from 'vitest';

import type { ForgeSim } from '../../src/index.js';
import {
  get,
  parseInfo,
  post,
  startFastSim,
  waitForProgress,
  type GenerationBody,
  type ProgressBody,
} from '../helpers/sim-client.js';

let sim: ForgeSim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('the FIFO lock', () => {
  it('completes three concurrent txt2img requests in arrival order', async () => {
    sim = await startFastSim({ stepMs: 5 });
    const finished: string[] = [];
    const send = (id: string) =>
      post(sim!, '/sdapi/v1/txt2img', { steps: 6, width: 64, height: 64, force_task_id: id }).then(
        () => finished.push(id),
      );
    const jobs = [send('task(a)')];
    await waitForProgress(sim, (progress) => progress.state.job_count > 0);
    jobs.push(send('task(b)'));
    await expect
      .poll(async () => (await get<{ size: number }>(sim!, '/internal/pending-tasks')).body.size)
      .toBe(1);
    jobs.push(send('task(c)'));
    await Promise.all(jobs);
    expect(finished).toEqual(['task(a)', 'task(b)', 'task(c)']);
  });

  it('answers progress, options and list routes while a generation runs', async () => {
    sim = await startFastSim({ stepMs: 20 });
    const job = post(sim, '/sdapi/v1/txt2img', { steps: 40, width: 64, height: 64 });
    await waitForProgress(sim, (progress) => progress.state.sampling_step >= 1);
    const during = await Promise.all([
      get<ProgressBody>(sim, '/sdapi/v1/progress'),
      get(sim, '/sdapi/v1/options'),
      get(sim, '/sdapi/v1/sd-models'),
      post(sim, '/sdapi/v1/options', { jpeg_quality: 90 }),
    ]);
    expect(during.map((response) => response.status)).toEqual([200, 200, 200, 200]);
    expect(during[0].body.state.job_count).toBe(1);
    expect(during[0].body.state.sampling_step).toBeLessThan(39);
    await post(sim, '/sdapi/v1/interrupt');
    await job;
  });

  it('makes refresh-checkpoints wait for the running generation', async () => {
    sim = await startFastSim({ stepMs: 5 });
    const job = post(sim, '/sdapi/v1/txt2img', {
      steps: 20,
      width: 64,
      height: 64,
      force_task_id: 'task(gen)',
    });
    await waitForProgress(sim, (progress) => progress.state.job_count > 0);
    const refresh = post(sim, '/sdapi/v1/refresh-checkpoints').then((response) => ({
      response,
      // The generation releases the lock only when it is done, so it must be finished by now.
      finishedThen: (sim!.state()['tasks'] as { finished: string[] }).finished,
    }));
    const progressDuring = await get<ProgressBody>(sim, '/sdapi/v1/progress');
    expect(progressDuring.body.state.job_count).toBe(1);
    const [, refreshed] = await Promise.all([job, refresh]);
    expect(refreshed.finishedThen).toContain('task(gen)');
    expect(refreshed.response.body).toBeNull();
  });
});

describe('interrupt', () => {
  it('returns the partial images with 200, skips later batches and leaves the flag set', async () => {
    sim = await startFastSim({ stepMs: 10 });
    const job = post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 30,
      n_iter: 3,
      width: 64,
      height: 64,
    });
    await waitForProgress(sim, (progress) => progress.state.sampling_step >= 2);
    const interrupted = await post(sim, '/sdapi/v1/interrupt');
    expect([interrupted.status, interrupted.body]).toEqual([200, {}]);
    const { status, body } = await job;
    expect(status).toBe(200);
    expect(body.images).toHaveLength(1);
    const after = await get<ProgressBody>(sim, '/sdapi/v1/progress');
    expect(after.body.state.interrupted).toBe(true);
    expect(after.body.state.job_no).toBe(1);

    // The next job's begin() clears the flag.
    const next = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 2,
      width: 64,
      height: 64,
    });
    expect(next.body.images).toHaveLength(1);
    expect((await get<ProgressBody>(sim, '/sdapi/v1/progress')).body.state.interrupted).toBe(false);
    expect(sim.stats().interrupted).toBe(1);
  });

  it('during a model load returns no images but one infotext, as Forge does', async () => {
    sim = await startFastSim({ loadMs: 400 });
    await post(sim, '/sdapi/v1/options', { sd_model_checkpoint: 'sd_xl_base_1.0' });
    const job = post<GenerationBody>(sim, '/sdapi/v1/txt2img', { steps: 5, width: 64, height: 64 });
    await waitForProgress(sim, (progress) => progress.state.job_count !== 0);
    await post(sim, '/sdapi/v1/interrupt');
    const { status, body } = await job;
    expect(status).toBe(200);
    expect(body.images).toEqual([]);
    expect(parseInfo(body).infotexts).toHaveLength(1);
  });

  it('is a no-op when idle', async () => {
    sim = await startFastSim();
    expect((await post(sim, '/sdapi/v1/interrupt')).body).toEqual({});
    const { body } = await post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 2,
      width: 64,
      height: 64,
    });
    expect(body.images).toHaveLength(1);
  });

  it('skips the hires pass, so the image keeps its first-pass size', async () => {
    sim = await startFastSim({ stepMs: 10 });
    const job = post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 30,
      width: 64,
      height: 64,
      enable_hr: true,
      denoising_strength: 0.5,
      hr_additional_modules: [],
    });
    await waitForProgress(sim, (progress) => progress.state.sampling_step >= 1);
    await post(sim, '/sdapi/v1/interrupt');
    const { body } = await job;
    const png = Buffer.from(body.images[0] ?? '', 'base64');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([64, 64]);
  });
});

describe('skip', () => {
  it('ends the current batch early, continues with the next, and answers null', async () => {
    sim = await startFastSim({ stepMs: 10 });
    const job = post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 20,
      n_iter: 2,
      width: 64,
      height: 64,
    });
    await waitForProgress(
      sim,
      (progress) => progress.state.job_no === 0 && progress.state.sampling_step >= 2,
    );
    const skipped = await post(sim, '/sdapi/v1/skip');
    expect([skipped.status, skipped.body, skipped.text]).toEqual([200, null, 'null']);
    const second = await waitForProgress(
      sim,
      (progress) => progress.state.job_no === 1 && progress.state.sampling_step >= 1,
    );
    expect(second.state.skipped).toBe(false);
    const { body } = await job;
    expect(body.images).toHaveLength(2);
    expect(parseInfo(body).infotexts).toHaveLength(2);
    expect(sim.stats().skipped).toBe(1);
  });
});
