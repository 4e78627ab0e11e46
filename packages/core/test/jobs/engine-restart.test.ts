import { fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

import { SqliteJobStore } from '../../src/jobs/sqlite-job-store.js';
import type { JobStatus } from '../../src/jobs/job.js';
import {
  cleanUp,
  newRig,
  startEngine,
  startSims,
  tempDir,
  waitUntilFinished,
} from './engine-helpers.js';

const rig = newRig();
afterEach(() => cleanUp(rig));

const FIXTURE = fileURLToPath(new URL('./fixtures/engine-child.ts', import.meta.url));

interface ChildMessage {
  type: 'submitted' | 'jobStarted' | 'jobCompleted';
  id?: string;
  ids?: string[];
}

describe('Engine: killed and restarted', () => {
  it('completes every job exactly once after the engine process is killed mid-run', async () => {
    const sims = await startSims(rig, 2, { stepMs: 5 });
    const dir = await tempDir(rig);
    const databasePath = join(dir, 'jobs.db');
    const child = fork(
      FIXTURE,
      [databasePath, join(dir, 'child-images'), JSON.stringify(sims.map((sim) => sim.url)), '12'],
      { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );

    const ids: string[] = [];
    const started = new Set<string>();
    const completedBefore = new Set<string>();
    await new Promise<void>((resolve, reject) => {
      child.on('exit', () => reject(new Error(`The engine process exited early: ${stderr}`)));
      child.on('message', (message: ChildMessage) => {
        if (message.type === 'submitted') ids.push(...(message.ids ?? []));
        if (message.type === 'jobStarted') started.add(message.id ?? '');
        if (message.type === 'jobCompleted') completedBefore.add(message.id ?? '');
        const running = [...started].filter((id) => !completedBefore.has(id));
        if (ids.length === 12 && completedBefore.size >= 2 && running.length > 0) resolve();
      });
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    // What the killed process left: completed, running and queued jobs, nothing half-written.
    const left = new SqliteJobStore({ path: databasePath });
    const before = await Promise.all(ids.map((id) => left.get(id)));
    await left.close();
    const statuses = new Set<JobStatus>(before.map((job) => job?.status ?? 'failed'));
    expect(statuses).toContain('completed');
    expect(statuses).toContain('running');
    expect(statuses).toContain('queued');
    const finishedBefore = new Set(
      before.filter((job) => job?.status === 'completed').map((job) => job?.id),
    );

    const { engine, store } = await startEngine(rig, sims, {
      store: new SqliteJobStore({ path: databasePath }),
    });
    const restarted: string[] = [];
    const completedAfter: string[] = [];
    engine.subscribe((event) => {
      if (event.type === 'jobStarted') restarted.push(event.job.id);
      if (event.type === 'jobCompleted') completedAfter.push(event.job.id);
    });
    const jobs = await waitUntilFinished(store, ids);
    expect(jobs.map((job) => job.status)).toEqual(ids.map(() => 'completed'));
    expect(restarted.filter((id) => finishedBefore.has(id))).toEqual([]);
    expect(new Set(completedAfter).size).toBe(completedAfter.length);
    expect(completedAfter.filter((id) => finishedBefore.has(id))).toEqual([]);
    expect(completedAfter.length + finishedBefore.size).toBe(ids.length);
  });

  it('puts running jobs back in the queue on a clean close, and runs them after a restart', async () => {
    const sims = await startSims(rig, 1, { stepMs: 10 });
    const dir = await tempDir(rig);
    const databasePath = join(dir, 'jobs.db');
    const first = await startEngine(rig, sims, {
      store: new SqliteJobStore({ path: databasePath }),
      tuning: { closeGraceMs: 0 },
    });
    const started = new Promise<void>((resolve) =>
      first.engine.events.on('jobStarted', () => resolve()),
    );
    const ids = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (await first.engine.submit({ prompt: `p${i}`, width: 64, height: 64, steps: 30 })).job.id,
      );
    }
    await started;
    await first.engine.close();
    const reopened = new SqliteJobStore({ path: databasePath });
    const records = await Promise.all(ids.map((id) => reopened.get(id)));
    expect(records.map((job) => job?.status)).toEqual(['queued', 'queued', 'queued']);
    const interrupted = records.filter((job) => job?.attempts === 1);
    expect(interrupted.map((job) => job?.error?.code)).toEqual(['FT_ERR_QUEUE_CLOSED']);
    const second = await startEngine(rig, sims, { store: reopened });
    const jobs = await waitUntilFinished(second.store, ids);
    expect(jobs.every((job) => job.status === 'completed')).toBe(true);
  });
});
