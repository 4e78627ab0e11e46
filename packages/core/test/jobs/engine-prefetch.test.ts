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
const PREFETCH = { prefetch: true };

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The job ids of the events of one type, in the order they were announced. */
function idsOf(events: readonly EngineEvent[], type: EngineEvent['type']): string[] {
  return events.flatMap((event) => (event.type === type && 'job' in event ? [event.job.id] : []));
}

describe('Engine with prefetch: one job sent ahead per backend', () => {
  it('completes every job on one backend exactly once, in order, each sent ahead', async () => {
    const sims = await startSims(rig, 1, { stepMs: 3 });
    const { engine, store } = await startEngine(rig, sims, { tuning: PREFETCH });
    const events: EngineEvent[] = [];
    engine.subscribe((event) => events.push(event));
    const doneAtStart: number[] = [];
    engine.events.on('jobStarted', () => doneAtStart.push(sims[0]!.stats().generations));
    const ids: string[] = [];
    for (let index = 0; index < 6; index += 1) {
      const { job } = await engine.submit({ ...SMALL, prompt: `job ${index}`, steps: 10 });
      ids.push(job.id);
    }
    const records = await waitUntilFinished(store, ids);
    expect(records.map((job) => job.status)).toEqual(Array(6).fill('completed'));
    expect(records.map((job) => job.attempts)).toEqual(Array(6).fill(1));
    expect(idsOf(events, 'jobCompleted')).toEqual(ids);
    expect(idsOf(events, 'jobStarted')).toEqual(ids);
    expect(sims[0]!.stats().generations).toBe(6);
    // Each next job was sent while Forge still generated the one before it.
    expect(doneAtStart).toHaveLength(6);
    doneAtStart.forEach((done, index) => expect(done).toBeLessThan(Math.max(1, index)));
  });

  it('cancels a job sent ahead without interrupting the active one', async () => {
    const sims = await startSims(rig, 1, { stepMs: 10 });
    const { engine, store } = await startEngine(rig, sims, { tuning: PREFETCH });
    const completed: string[] = [];
    engine.events.on('jobCompleted', (event) => completed.push(event.job.id));
    const progressed = waitForEvent(engine, 'jobProgress');
    const active = await engine.submit({ ...SMALL, prompt: 'active', steps: 40 });
    const aheadStarted = waitForEvent(engine, 'jobStarted');
    const ahead = await engine.submit({ ...SMALL, prompt: 'ahead' });
    expect((await aheadStarted).job.id).toBe(ahead.job.id);
    await progressed;

    const cancelled = await engine.cancel(ahead.job.id);
    expect(cancelled.status).toBe('cancelled');
    const [activeDone, aheadDone] = await waitUntilFinished(store, [active.job.id, ahead.job.id]);
    expect(activeDone?.status).toBe('completed');
    expect(aheadDone?.status).toBe('cancelled');
    expect(completed).toEqual([active.job.id]);
    // Forge may still run the abandoned request after the active one; it must not be interrupted.
    await until(() => sims[0]!.stats().generations >= 1);
    expect(sims[0]!.stats().interrupted).toBe(0);

    const next = await engine.submit({ ...SMALL, prompt: 'after' });
    const [nextDone] = await waitUntilFinished(store, [next.job.id]);
    expect(nextDone?.status).toBe('completed');
    expect(sims[0]!.stats().interrupted).toBe(0);
  });

  it('reports progress of a job sent ahead only once it runs', async () => {
    const sims = await startSims(rig, 1, { stepMs: 10 });
    const { engine, store } = await startEngine(rig, sims, { tuning: PREFETCH });
    const events: EngineEvent[] = [];
    engine.subscribe((event) => events.push(event));
    const doneAtStart: number[] = [];
    engine.events.on('jobStarted', () => doneAtStart.push(sims[0]!.stats().generations));
    const first = await engine.submit({ ...SMALL, prompt: 'first', steps: 30 });
    const second = await engine.submit({ ...SMALL, prompt: 'second', steps: 12 });
    await waitUntilFinished(store, [first.job.id, second.job.id]);

    const progressOf = (id: string) =>
      events.flatMap((event) =>
        event.type === 'jobProgress' && event.job.id === id ? [event.progress] : [],
      );
    expect(idsOf(events, 'jobStarted')).toEqual([first.job.id, second.job.id]);
    // The second job was sent while Forge still generated the first.
    expect(doneAtStart).toEqual([0, 0]);
    // Forge's progress is global: had the second job been polled while the first ran, it would
    // carry the first one's 30 steps.
    expect(progressOf(first.job.id).length).toBeGreaterThan(0);
    expect(progressOf(second.job.id).length).toBeGreaterThan(0);
    expect(progressOf(first.job.id).every((progress) => progress.totalSteps !== 12)).toBe(true);
    expect(progressOf(second.job.id).every((progress) => progress.totalSteps !== 30)).toBe(true);
  });

  it('starts the time limit of a job sent ahead when it becomes active', async () => {
    const sims = await startSims(rig, 1, { stepMs: 15 });
    const { engine, store } = await startEngine(rig, sims, { tuning: PREFETCH });
    // The first job runs about 1.5 s, longer than the second one's whole limit.
    const first = await engine.submit({ ...SMALL, prompt: 'first', steps: 100 });
    const second = await engine.submit({ ...SMALL, prompt: 'second', timeout_ms: 1_000 });
    const records = await waitUntilFinished(store, [first.job.id, second.job.id]);
    expect(records.map((job) => job.status)).toEqual(['completed', 'completed']);
    expect(sims[0]!.stats().interrupted).toBe(0);
  });

  it('requeues the job sent ahead when its backend goes down', async () => {
    const sims = await startSims(rig, 2, { stepMs: 10 });
    const { engine, store } = await startEngine(rig, sims, { tuning: PREFETCH });
    const events: EngineEvent[] = [];
    engine.subscribe((event) => events.push(event));
    const firstStarted = waitForEvent(engine, 'jobStarted');
    const long = await engine.submit({ ...SMALL, prompt: 'long', steps: 150 });
    const victimName = (await firstStarted).backend;
    const other = await engine.submit({ ...SMALL, prompt: 'other', steps: 40 });
    const aheadStarted = waitForEvent(
      engine,
      'jobStarted',
      (event) => event.backend === victimName,
    );
    const ahead = await engine.submit({ ...SMALL, prompt: 'ahead' });
    expect((await aheadStarted).job.id).toBe(ahead.job.id);

    await sims[Number(victimName.slice('sim-'.length))]!.close();
    const records = await waitUntilFinished(store, [long.job.id, other.job.id, ahead.job.id]);
    expect(records.map((job) => job.status)).toEqual(['completed', 'completed', 'completed']);
    expect(records.map((job) => job.backend)).not.toContain(victimName);
    expect(records[2]?.attempts).toBe(2);
    expect(idsOf(events, 'jobRequeued')).toEqual(
      expect.arrayContaining([long.job.id, ahead.job.id]),
    );
    expect(idsOf(events, 'jobCompleted').sort()).toEqual(
      [long.job.id, other.job.id, ahead.job.id].sort(),
    );
  });

  it('refuses a prefetch option that is not a boolean', async () => {
    const sims = await startSims(rig, 1);
    await expect(
      startEngine(rig, sims, { tuning: { prefetch: 'yes' as unknown as boolean } }),
    ).rejects.toThrow(/options\.prefetch must be true or false/);
  });
});
