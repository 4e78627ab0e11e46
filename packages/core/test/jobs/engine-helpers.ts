// Shared helpers of the engine tests: simulators, an engine over temporary folders, waiting for events.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startForgeSim, type ForgeSim, type ForgeSimOptions } from '@forge-tool/forge-sim';

import { ImagePipeline } from '../../src/images/image-pipeline.js';
import { LocalImageStore } from '../../src/images/local-image-store.js';
import type { EngineEvent } from '../../src/jobs/engine-events.js';
import type { EngineTuning, PromptExpander } from '../../src/jobs/engine-options.js';
import { Engine } from '../../src/jobs/engine.js';
import { InMemoryJobStore } from '../../src/jobs/in-memory-job-store.js';
import type { JobStore } from '../../src/jobs/job-store.js';
import type { JobRecord, JobStatus } from '../../src/jobs/job.js';

/** Everything a test started, closed by {@link cleanUp}. */
export interface TestRig {
  sims: ForgeSim[];
  engines: Engine[];
  dirs: string[];
}

/** A fresh rig. */
export function newRig(): TestRig {
  return { sims: [], engines: [], dirs: [] };
}

/** Closes engines, then simulators, then removes temporary folders. */
export async function cleanUp(rig: TestRig): Promise<void> {
  await Promise.all(rig.engines.splice(0).map((engine) => engine.close()));
  await Promise.all(rig.sims.splice(0).map((sim) => sim.close()));
  await Promise.all(rig.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Starts `count` simulators on port 0 with tiny step times. */
export async function startSims(
  rig: TestRig,
  count: number,
  options: ForgeSimOptions = {},
): Promise<ForgeSim[]> {
  const sims = await Promise.all(
    Array.from({ length: count }, () =>
      startForgeSim({ port: 0, stepMs: 1, imageMs: 0, loadMs: 5, ...options }),
    ),
  );
  rig.sims.push(...sims);
  return sims;
}

/** A temporary folder removed by {@link cleanUp}. */
export async function tempDir(rig: TestRig): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'forge-tool-engine-'));
  rig.dirs.push(dir);
  return dir;
}

/** Tuning that keeps tests quick. */
export const FAST_TUNING = {
  progressIntervalMs: 20,
  previewIntervalMs: 0,
  healthIntervalMs: 100,
  backendRetryMinMs: 20,
  backendRetryMaxMs: 200,
  retryBaseMs: 10,
  retryMaxMs: 50,
  interruptGraceMs: 2_000,
  closeGraceMs: 2_000,
} satisfies EngineTuning;

/** Starts an engine over the simulators, an in-memory store and inline image processing. */
export async function startEngine(
  rig: TestRig,
  sims: readonly ForgeSim[],
  options: {
    store?: JobStore;
    tuning?: EngineTuning;
    tags?: string[][];
    expandPrompt?: PromptExpander;
  } = {},
): Promise<{ engine: Engine; store: JobStore; images: LocalImageStore }> {
  const store = options.store ?? new InMemoryJobStore();
  const images = new LocalImageStore({ root: await tempDir(rig) });
  const engine = await Engine.start({
    backends: sims.map((sim, index) => ({
      name: `sim-${index}`,
      url: sim.url,
      tags: options.tags?.[index] ?? [],
    })),
    store,
    images,
    pipeline: new ImagePipeline({ mode: 'inline' }),
    ...FAST_TUNING,
    ...options.tuning,
    ...(options.expandPrompt === undefined ? {} : { expandPrompt: options.expandPrompt }),
  });
  rig.engines.push(engine);
  return { engine, store, images };
}

/** Resolves with the first event that matches, or rejects after `timeoutMs`. */
export function waitForEvent<Type extends EngineEvent['type']>(
  engine: Engine,
  type: Type,
  matches: (event: Extract<EngineEvent, { type: Type }>) => boolean = () => true,
  timeoutMs = 15_000,
): Promise<Extract<EngineEvent, { type: Type }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`No ${type} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = engine.subscribe((event) => {
      if (event.type !== type) return;
      const typed = event as Extract<EngineEvent, { type: Type }>;
      if (!matches(typed)) return;
      clearTimeout(timer);
      stop();
      resolve(typed);
    });
  });
}

const FINISHED: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled']);

/** Polls the store until every job is finished; returns the final records. */
export async function waitUntilFinished(
  store: JobStore,
  ids: readonly string[],
  timeoutMs = 30_000,
): Promise<JobRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const jobs = await Promise.all(ids.map((id) => store.get(id)));
    if (jobs.every((job) => job !== undefined && FINISHED.has(job.status))) {
      return jobs as JobRecord[];
    }
    if (Date.now() > deadline) {
      const open = jobs.filter((job) => job !== undefined && !FINISHED.has(job.status));
      throw new Error(
        `${open.length} jobs still unfinished: ${open.map((j) => `${j?.id}:${j?.status}`).join(', ')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
