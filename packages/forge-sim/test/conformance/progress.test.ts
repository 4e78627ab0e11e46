/**
 * forge-api.md §4.3 and §4.4: the progress state machine, the exact progress/ETA formula,
 * live previews and the `/internal/*` task routes.
 */
import { afterEach, describe, expect, it } from 'vitest';

import type { ForgeSim } from '../../src/index.js';
import {
  get,
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

/** The progress Forge reports for a state, before clamping (api.py `progressapi`). */
function expectedProgress(state: ProgressBody['state']): number {
  let progress = 0.01;
  if (state.job_count > 0) progress += state.job_no / state.job_count;
  if (state.sampling_steps > 0)
    progress += ((1 / state.job_count) * state.sampling_step) / state.sampling_steps;
  return progress;
}

describe('GET /sdapi/v1/progress', () => {
  it('answers the idle shape before any job', async () => {
    sim = await startFastSim();
    const { body, text } = await get<ProgressBody>(sim, '/sdapi/v1/progress');
    expect(body).toEqual({
      progress: 0,
      eta_relative: 0,
      state: {
        skipped: false,
        interrupted: false,
        stopping_generation: false,
        job: '',
        job_count: 0,
        job_timestamp: '0',
        job_no: 0,
        sampling_step: 0,
        sampling_steps: 0,
      },
      current_image: null,
      textinfo: null,
    });
    expect(text).toContain('"progress":0.0,"eta_relative":0.0');
  });

  it('follows the formula while a job runs, with Batch k out of n', async () => {
    sim = await startFastSim({ stepMs: 8 });
    const job = post<GenerationBody>(sim, '/sdapi/v1/txt2img', {
      steps: 10,
      n_iter: 3,
      width: 64,
      height: 64,
    });
    const samples: ProgressBody[] = [];
    await waitForProgress(sim, (progress) => {
      if (progress.state.job_count > 0) samples.push(progress);
      return progress.state.job_no >= 2 && progress.state.sampling_step >= 3;
    });
    await job;
    expect(samples.length).toBeGreaterThan(2);
    for (const sample of samples) {
      const expected = expectedProgress(sample.state);
      expect(sample.progress).toBeCloseTo(Math.min(expected, 1), 10);
      expect(sample.state.job_count).toBe(3);
      expect(sample.state.sampling_steps).toBe(10);
      expect(sample.state.sampling_step).toBeLessThanOrEqual(9);
      // Between nextjob() and the next batch's start, job_no already counts the finished batch.
      const batches = [
        `Batch ${sample.state.job_no + 1} out of 3`,
        `Batch ${sample.state.job_no} out of 3`,
      ];
      expect(sample.state.sampling_step > 0 ? batches.slice(0, 1) : batches).toContain(
        sample.state.job,
      );
      expect(sample.eta_relative).toBeGreaterThanOrEqual(0);
    }
  });

  it('keeps job_no, steps and the timestamp after the job ends, with job_count 0', async () => {
    sim = await startFastSim();
    await post(sim, '/sdapi/v1/txt2img', { steps: 4, n_iter: 2, width: 64, height: 64 });
    const { body } = await get<ProgressBody>(sim, '/sdapi/v1/progress');
    expect(body.progress).toBe(0);
    expect(body.state).toMatchObject({ job: '', job_count: 0, job_no: 2, sampling_steps: 4 });
    expect(body.state.job_timestamp).toMatch(/^\d{14}$/);
  });

  it('shows a live preview every N steps, and none with skip_current_image', async () => {
    sim = await startFastSim({ stepMs: 10, previewEveryNSteps: 2 });
    const job = post(sim, '/sdapi/v1/txt2img', { steps: 30, width: 64, height: 64 });
    const withImage = await waitForProgress(sim, (progress) => progress.current_image !== null);
    expect(
      Buffer.from(withImage.current_image ?? '', 'base64')
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    const skipped = await get<ProgressBody>(sim, '/sdapi/v1/progress?skip_current_image=true');
    expect(skipped.body.current_image).toBeNull();
    await post(sim, '/sdapi/v1/interrupt');
    await job;
  });

  it('rejects a bad skip_current_image like a FastAPI query model', async () => {
    sim = await startFastSim();
    const { status, body } = await get(sim, '/sdapi/v1/progress?skip_current_image=maybe');
    expect(status).toBe(422);
    expect(body).toEqual({
      detail: [
        {
          type: 'bool_parsing',
          loc: ['query', 'skip_current_image'],
          msg: 'Input should be a valid boolean, unable to interpret input',
          input: 'maybe',
          url: 'https://errors.pydantic.dev/2.8/v/bool_parsing',
        },
      ],
    });
  });
});

describe('/internal routes (webui mode)', () => {
  it('reports queue position, activity and completion by task id', async () => {
    sim = await startFastSim({ stepMs: 10 });
    const first = post(sim, '/sdapi/v1/txt2img', {
      steps: 15,
      width: 64,
      height: 64,
      force_task_id: 'task(one)',
    });
    await waitForProgress(sim, (progress) => progress.state.job_count > 0);
    const second = post(sim, '/sdapi/v1/txt2img', {
      steps: 1,
      width: 64,
      height: 64,
      force_task_id: 'task(two)',
    });
    await expect
      .poll(
        async () => (await get<{ tasks: string[] }>(sim!, '/internal/pending-tasks')).body.tasks,
      )
      .toEqual(['task(two)']);

    const queued = await post<Record<string, unknown>>(sim, '/internal/progress', {
      id_task: 'task(two)',
    });
    expect(queued.body).toEqual({
      active: false,
      queued: true,
      completed: false,
      progress: null,
      eta: null,
      live_preview: null,
      id_live_preview: -1,
      textinfo: 'In queue: 1/1',
    });
    const active = await post<Record<string, unknown>>(sim, '/internal/progress', {
      id_task: 'task(one)',
      live_preview: false,
    });
    expect(active.body).toMatchObject({ active: true, queued: false, completed: false });
    expect(typeof active.body['progress']).toBe('number');

    await Promise.all([first, second]);
    const done = await post<Record<string, unknown>>(sim, '/internal/progress', {
      id_task: 'task(one)',
    });
    expect(done.body).toMatchObject({
      active: false,
      queued: false,
      completed: true,
      textinfo: 'Waiting...',
    });
    expect((await get(sim, '/internal/ping')).body).toEqual({});
  });

  it('does not exist in nowebui mode', async () => {
    sim = await startFastSim({ mode: 'nowebui' });
    expect((await get(sim, '/internal/ping')).status).toBe(404);
    expect((await get(sim, '/internal/pending-tasks')).status).toBe(404);
  });
});
