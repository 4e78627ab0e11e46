import { afterEach, describe, expect, it } from 'vitest';

import type { EngineEvent } from '../../src/jobs/engine-events.js';
import { InMemoryJobStore } from '../../src/jobs/in-memory-job-store.js';
import {
  cleanUp,
  newRig,
  startEngine,
  startSims,
  waitForEvent,
  waitUntilFinished,
} from './engine-helpers.js';
import { FlakyStore } from './flaky-store.js';

const rig = newRig();
afterEach(() => cleanUp(rig));

const SMALL = { width: 64, height: 64, steps: 2 };

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Engine: backend failures', () => {
  it('finishes a job on another backend when its backend dies mid-job', async () => {
    const sims = await startSims(rig, 2, { stepMs: 10 });
    const { engine, store } = await startEngine(rig, sims);
    const events: EngineEvent[] = [];
    engine.subscribe((event) => events.push(event));
    const progressed = waitForEvent(engine, 'jobProgress');
    const { job } = await engine.submit({ ...SMALL, prompt: 'x', steps: 40 });
    const { job: running } = await progressed;
    const victim = sims[Number(running.backend?.slice('sim-'.length))]!;
    await victim.close();
    const [done] = await waitUntilFinished(store, [job.id]);
    expect(done?.status).toBe('completed');
    expect(done?.attempts).toBe(2);
    expect(done?.backend).not.toBe(running.backend);
    const requeued = events.find((event) => event.type === 'jobRequeued');
    expect(requeued?.type === 'jobRequeued' && requeued.error.code).toMatch(
      /FT_ERR_FORGE_(CONNECTION_LOST|UNREACHABLE)/,
    );
    expect(events.some((e) => e.type === 'backendDown' && e.backend === running.backend)).toBe(
      true,
    );
    expect(events.filter((event) => event.type === 'jobCompleted')).toHaveLength(1);
  });

  it('fails a job Forge rejects at once, without a retry', async () => {
    const sims = await startSims(rig, 2, { faults: { failureRate: 1 } });
    const { engine, store } = await startEngine(rig, sims);
    const { job } = await engine.submit({ ...SMALL, prompt: 'x' });
    const [done] = await waitUntilFinished(store, [job.id]);
    expect(done?.status).toBe('failed');
    expect(done?.attempts).toBe(1);
    expect(done?.error?.code).toBe('FT_ERR_FORGE_SERVER');
    expect(done?.error?.message).toMatch(/RuntimeError/);
    expect((await engine.backends()).every((backend) => backend.status === 'up')).toBe(true);
  });

  it('retries out-of-memory once on another backend', async () => {
    const sims = await startSims(rig, 2);
    sims[0]!.setFaults({ oomRate: 1 });
    sims[1]!.setFaults({ oomRate: 1 });
    const { engine, store } = await startEngine(rig, sims);
    const { job } = await engine.submit({ ...SMALL, prompt: 'x' });
    const [failed] = await waitUntilFinished(store, [job.id]);
    expect(failed?.status).toBe('failed');
    expect(failed?.attempts).toBe(2);
    expect(failed?.error?.code).toBe('FT_ERR_FORGE_OUT_OF_MEMORY');
    sims[1]!.setFaults({ oomRate: 0 });
    const second = await engine.submit({ ...SMALL, prompt: 'y' });
    const [done] = await waitUntilFinished(store, [second.job.id]);
    expect(done?.status).toBe('completed');
    expect(done?.backend).toBe('sim-1');
  });

  it('interrupts a job that runs past its time limit', async () => {
    const sims = await startSims(rig, 1, { stepMs: 20 });
    const { engine, store } = await startEngine(rig, sims);
    const { job } = await engine.submit({ ...SMALL, prompt: 'x', steps: 150, timeout_ms: 1_000 });
    const [done] = await waitUntilFinished(store, [job.id]);
    expect(done?.status).toBe('failed');
    expect(done?.error?.code).toBe('FT_ERR_JOB_TIMEOUT');
    await until(() => sims[0]!.stats().interrupted === 1);
  });
});

describe('Engine: cancel', () => {
  it('cancels a queued job at once and interrupts a running one on its backend', async () => {
    const sims = await startSims(rig, 1, { stepMs: 20 });
    const { engine, store } = await startEngine(rig, sims);
    const cancelled: string[] = [];
    engine.events.on('jobCancelled', (event) => cancelled.push(event.job.id));
    const progressed = waitForEvent(engine, 'jobProgress');
    const running = await engine.submit({ ...SMALL, prompt: 'long', steps: 100 });
    const queued = await engine.submit({ ...SMALL, prompt: 'waiting' });
    await progressed;

    const queuedCancel = await engine.cancel(queued.job.id);
    expect(queuedCancel.status).toBe('cancelled');
    expect(queuedCancel.attempts).toBe(0);
    expect(queuedCancel.error?.code).toBe('FT_ERR_JOB_CANCELLED');

    const runningCancel = await engine.cancel(running.job.id);
    expect(runningCancel.status).toBe('cancelled');
    await until(() => sims[0]!.stats().interrupted === 1);
    await expect(engine.cancel(running.job.id)).rejects.toMatchObject({
      code: 'FT_ERR_JOB_NOT_CANCELLABLE',
    });
    await expect(engine.cancel('job_missing')).rejects.toMatchObject({
      code: 'FT_ERR_JOB_NOT_FOUND',
    });

    const next = await engine.submit({ ...SMALL, prompt: 'after' });
    const [done] = await waitUntilFinished(store, [next.job.id]);
    expect(done?.status).toBe('completed');
    expect((await store.get(running.job.id))?.status).toBe('cancelled');
    expect(cancelled.sort()).toEqual([queued.job.id, running.job.id].sort());
    expect(sims[0]!.stats().generations).toBe(2);
  });
});

describe('Engine: store failures and limits', () => {
  it('refuses requests while no backend has ever answered, naming why', async () => {
    const sims = await startSims(rig, 1);
    await sims[0]!.close();
    const { engine } = await startEngine(rig, sims);
    const error: unknown = await engine.submit({ ...SMALL, prompt: 'x' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FT_ERR_QUEUE_NO_BACKEND' });
    expect((error as Error).message).toMatch(/No backend has answered yet.*sim-0: .*unreachable/);
    expect((await engine.backends())[0]?.status).toBe('down');
  });

  it('leaves no record behind when the store fails to insert', async () => {
    const sims = await startSims(rig, 1);
    const flaky = new FlakyStore(new InMemoryJobStore());
    const { engine } = await startEngine(rig, sims, { store: flaky });
    const queued: string[] = [];
    engine.events.on('jobQueued', (event) => queued.push(event.job.id));
    flaky.failNext('insert');
    await expect(engine.submit({ ...SMALL, prompt: 'x' })).rejects.toMatchObject({
      code: 'FT_ERR_STORE_FAILURE',
    });
    expect((await flaky.list({ limit: 10 })).jobs).toEqual([]);
    expect(queued).toEqual([]);
    expect(
      (await engine.estimate((await engine.submit({ ...SMALL, prompt: 'y' })).job.id)).jobId,
    ).toBeDefined();
  });

  it('retries an attempt whose result could not be stored, and keeps no orphan image', async () => {
    const sims = await startSims(rig, 1);
    const flaky = new FlakyStore(new InMemoryJobStore());
    const { engine, images } = await startEngine(rig, sims, { store: flaky });
    flaky.failNext('complete');
    const { job } = await engine.submit({ ...SMALL, prompt: 'x', batch_size: 2 });
    const [done] = await waitUntilFinished(flaky, [job.id]);
    expect(flaky.failed).toEqual(['complete']);
    expect(done?.status).toBe('completed');
    expect(done?.attempts).toBe(2);
    const stored = (await images.list()).map((info) => info.key).sort();
    const recorded = (done?.result?.images ?? []).flatMap((image) => [
      image.key,
      image.thumbnailKey,
    ]);
    expect(stored).toEqual(recorded.sort());
  });

  it('enforces the per-owner queued limit and refuses jobs once closing', async () => {
    const sims = await startSims(rig, 1, { stepMs: 20 });
    const { engine } = await startEngine(rig, sims, { tuning: { maxQueuedPerOwner: 1 } });
    const started = waitForEvent(engine, 'jobStarted');
    await engine.submit({ ...SMALL, prompt: 'running', steps: 50, owner: { id: 'u' } });
    await started;
    const queued = { ...SMALL, prompt: 'queued', owner: { id: 'u' }, idempotency_key: 'q-1' };
    const first = await engine.submit(queued);
    // A client retrying a submit it already made gets its job back, even at the limit.
    const repeat = await engine.submit(queued);
    expect([repeat.created, repeat.job.id]).toEqual([false, first.job.id]);
    await expect(
      engine.submit({ ...SMALL, prompt: 'one too many', owner: { id: 'u' } }),
    ).rejects.toMatchObject({
      code: 'FT_ERR_QUEUE_FULL',
    });
    await engine.submit({ ...SMALL, prompt: 'someone else', owner: { id: 'v' } });
    const closing = engine.close();
    await expect(engine.submit({ ...SMALL, prompt: 'late' })).rejects.toMatchObject({
      code: 'FT_ERR_QUEUE_CLOSED',
    });
    await closing;
  });
});
