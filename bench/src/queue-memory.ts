/**
 * Benchmark (4): memory and speed with 100,000 queued jobs.
 *
 * An engine over one simulated backend, whose first job hangs so that every later job stays
 * queued, takes 100,000 submissions from 500 owners (SQLite job store in a temporary folder). The
 * JavaScript heap is measured after a forced garbage collection before and after: the growth per
 * job is what the engine keeps in memory per queued job (its queue entry; the records stay in
 * SQLite, whose page cache shows in the resident set instead). With the queue full, the time of a
 * queue-position estimate and of one more submission is measured, and then the fair queue alone
 * is measured the same way (entries only, no engine): heap per entry, add, pick and position.
 *
 * Run: `npm run bench` at the root, or `node bench/dist/queue-memory.js [--jobs N] [--owners N]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import {
  Engine,
  FairQueue,
  ImagePipeline,
  LocalImageStore,
  SqliteJobStore,
} from '@forge-tool/core';
import { startForgeSim } from '@forge-tool/forge-sim';

import { fixed, median } from './measure.js';

/** Settings of one run. */
export interface QueueMemorySettings {
  jobs: number;
  owners: number;
}

/** Figures of the engine with its queue full. */
export interface EngineQueueFigures {
  /** Heap growth per queued job, in bytes. */
  heapBytesPerJob: number;
  /** Heap growth in all, in megabytes. */
  heapGrowthMb: number;
  /** Resident set growth (includes SQLite's page cache), in megabytes. */
  rssGrowthMb: number;
  /** Submissions per second while the queue filled. */
  submitsPerSecond: number;
  /** Median time of `estimate()` of a queued job with the queue full, in microseconds. */
  estimateMicros: number;
  /** Median time of one more `submit()` with the queue full, in microseconds. */
  submitMicros: number;
}

/** Figures of the fair queue alone. */
export interface FairQueueFigures {
  heapBytesPerEntry: number;
  /** Median microseconds per operation with the queue full. */
  addMicros: number;
  pickMicros: number;
  positionMicros: number;
}

/** The figures of one run. */
export interface QueueMemoryReport {
  settings: QueueMemorySettings;
  engine: EngineQueueFigures;
  queue: FairQueueFigures;
}

const collectGarbage = exposeGc();

/** Fills an engine's queue and a bare fair queue, and measures both. */
export async function measureQueueMemory(
  settings: QueueMemorySettings,
): Promise<QueueMemoryReport> {
  const engine = await measureEngine(settings);
  const queue = measureFairQueue(settings);
  return { settings, engine, queue };
}

async function measureEngine(settings: QueueMemorySettings): Promise<EngineQueueFigures> {
  const sim = await startForgeSim({ port: 0, faults: { hangMs: 3_600_000 } });
  const dir = await mkdtemp(join(tmpdir(), 'forge-tool-bench-'));
  const engine = await Engine.start({
    backends: [{ name: 'sim', url: sim.url }],
    store: new SqliteJobStore({ path: join(dir, 'jobs.db') }),
    images: new LocalImageStore({ root: join(dir, 'outputs') }),
    pipeline: new ImagePipeline({ mode: 'inline' }),
    interruptGraceMs: 100,
    closeGraceMs: 0,
  });
  const submit = (index: number): Promise<{ job: { id: string } }> =>
    engine.submit({ prompt: `job ${index}`, owner: { id: `owner-${index % settings.owners}` } });
  try {
    await submit(-1); // the job that hangs on the backend
    const before = usage();
    const started = performance.now();
    const ids: string[] = [];
    for (let index = 0; index < settings.jobs; index += 1) ids.push((await submit(index)).job.id);
    const submitsPerSecond = (settings.jobs * 1_000) / (performance.now() - started);
    const after = usage();
    const sample = ids.filter((_, index) => index % Math.ceil(ids.length / 50) === 0);
    const estimateMicros = await medianMicros(sample, (id) => engine.estimate(id));
    const submitMicros = await medianMicros(sample, (_, index) => submit(settings.jobs + index));
    return {
      heapBytesPerJob: (after.heap - before.heap) / settings.jobs,
      heapGrowthMb: (after.heap - before.heap) / 1e6,
      rssGrowthMb: (after.rss - before.rss) / 1e6,
      submitsPerSecond,
      estimateMicros,
      submitMicros,
    };
  } finally {
    await engine.close();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function measureFairQueue(settings: QueueMemorySettings): FairQueueFigures {
  const queue = new FairQueue();
  const entry = (index: number) => ({
    id: `job_01JCQ${String(index).padStart(21, '0')}`,
    owner: `api:owner-${index % settings.owners}`,
    priority: 0,
    sequence: index + 1,
    checkpoint: null,
    tags: [],
    avoidBackend: null,
  });
  const before = usage();
  for (let index = 0; index < settings.jobs; index += 1) queue.add(entry(index));
  const after = usage();
  const target = {
    name: 'gpu',
    tags: new Set<string>(),
    loadedCheckpoint: null,
    defaultCheckpoint: null,
  };
  const timings = { add: [] as number[], pick: [] as number[], position: [] as number[] };
  for (let round = 0; round < 200; round += 1) {
    const extra = entry(settings.jobs + round);
    timings.add.push(timeMicros(() => queue.add(extra)));
    timings.position.push(timeMicros(() => queue.position(extra.id)));
    let picked: { owner: string } | undefined;
    timings.pick.push(timeMicros(() => (picked = queue.pick(target))));
    if (picked !== undefined) queue.settle(picked.owner);
  }
  return {
    heapBytesPerEntry: (after.heap - before.heap) / settings.jobs,
    addMicros: median(timings.add),
    pickMicros: median(timings.pick),
    positionMicros: median(timings.position),
  };
}

function usage(): { heap: number; rss: number } {
  collectGarbage();
  const memory = process.memoryUsage();
  return { heap: memory.heapUsed, rss: memory.rss };
}

function timeMicros(operation: () => unknown): number {
  const started = performance.now();
  operation();
  return (performance.now() - started) * 1_000;
}

async function medianMicros(
  ids: readonly string[],
  operation: (id: string, index: number) => Promise<unknown>,
): Promise<number> {
  const times: number[] = [];
  for (const [index, id] of ids.entries()) {
    const started = performance.now();
    await operation(id, index);
    times.push((performance.now() - started) * 1_000);
  }
  return median(times);
}

/** `global.gc`, switched on at run time so the benchmark needs no node flag. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

/** A small table of the run. */
export function formatQueueMemory(report: QueueMemoryReport): string {
  const { engine, queue, settings } = report;
  return [
    `Memory with ${settings.jobs} queued jobs from ${settings.owners} owners`,
    'engine   heap B/job  heap MB  rss MB  submits/s  estimate us  submit us',
    '         ' +
      fixed(engine.heapBytesPerJob, 0, 10) +
      fixed(engine.heapGrowthMb, 1, 9) +
      fixed(engine.rssGrowthMb, 1, 8) +
      fixed(engine.submitsPerSecond, 0, 11) +
      fixed(engine.estimateMicros, 1, 13) +
      fixed(engine.submitMicros, 1, 11),
    'queue    heap B/entry   add us  pick us  position us',
    '         ' +
      fixed(queue.heapBytesPerEntry, 0, 12) +
      fixed(queue.addMicros, 2, 9) +
      fixed(queue.pickMicros, 2, 9) +
      fixed(queue.positionMicros, 2, 13),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string', default: '100000' },
      owners: { type: 'string', default: '500' },
    },
  });
  const report = await measureQueueMemory({
    jobs: Number(values.jobs),
    owners: Number(values.owners),
  });
  process.stdout.write(`${formatQueueMemory(report)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
