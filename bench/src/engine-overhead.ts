/**
 * Benchmark (1): what the whole engine adds per job over calling the simulator directly.
 *
 * The simulator runs in its own process at 0 ms per step, image and load, so a generation costs
 * only its HTTP exchange and the simulator's PNG work. "direct" sends txt2img with the Forge
 * client and reads the body; "engine" submits the same request to an engine (SQLite job store in
 * a temporary folder, local image folder, worker-thread pipeline, one backend) and waits for its
 * `jobCompleted` event: validation, capability check, store writes (insert, running, complete),
 * dispatch, image processing (JSON, base64, PNG checks, sha256, thumbnail) and image writes.
 *
 * Two engine figures: "one at a time" (submit, wait for completion, next) is the latency a single
 * job sees; "all at once" (a round's jobs submitted together to the one backend) is the wall time
 * per job at full load, where a job's image work overlaps the next job's generation because the
 * backend is released as soon as Forge answers. Its difference to "direct" is the time the
 * backend loses per job. Rounds alternate between the sides; medians are reported.
 *
 * The default setup (SQLite store, worker-thread pipeline) runs at each size; the smallest size
 * also runs with an in-memory store and the pipeline on the main thread, which shows what the
 * store's durable writes and the hop to a worker thread cost per job.
 *
 * Run: `npm run bench` at the root, or
 * `node bench/dist/engine-overhead.js [--rounds N] [--per-round N] [--size PX ...]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import {
  Engine,
  ForgeClient,
  ImagePipeline,
  InMemoryJobStore,
  LocalImageStore,
  SqliteJobStore,
  type ImagePipelineMode,
} from '@forge-tool/core';

import { fixed, runBatch, toTiming, type BatchTime, type Timing } from './measure.js';
import { startSimProcess } from './sim-process.js';

/** Settings of one run. */
export interface EngineOverheadSettings {
  rounds: number;
  perRound: number;
  /** Width and height of the one image per job. */
  size: number;
  /** The job store: SQLite in a temporary file (the default), or in memory. */
  store: 'sqlite' | 'memory';
  /** Where results are processed: worker threads (the default), or the main thread. */
  pipeline: ImagePipelineMode;
}

/** The figures of one run. */
export interface EngineOverheadReport {
  settings: EngineOverheadSettings;
  /** Direct txt2img calls, one after the other (Forge runs one at a time anyway). */
  direct: Timing;
  /** Engine jobs one at a time: submit, wait for completion, next. */
  latency: Timing;
  /** Engine jobs all submitted at once to the one backend: wall time over the jobs. */
  throughput: Timing;
  /** latency - direct, wall-clock milliseconds per job: what one job waits longer. */
  latencyOverheadMs: number;
  /** throughput - direct, wall-clock milliseconds per job: what the backend loses per job. */
  throughputOverheadMs: number;
  /** throughput - direct, CPU milliseconds of this process (all its threads) per job. */
  cpuOverheadMs: number;
}

const REQUEST = { prompt: 'a lighthouse on a cliff at dusk', steps: 20, seed: 1234 };

/** Measures the engine's overhead per job against direct simulator calls. */
export async function measureEngineOverhead(
  settings: EngineOverheadSettings,
): Promise<EngineOverheadReport> {
  const sim = await startSimProcess(['--step-ms', '0', '--image-ms', '0', '--load-ms', '0']);
  const dir = await mkdtemp(join(tmpdir(), 'forge-tool-bench-'));
  const client = new ForgeClient({ baseUrl: sim.url });
  const engine = await Engine.start({
    backends: [{ name: 'sim', url: sim.url }],
    store:
      settings.store === 'sqlite'
        ? new SqliteJobStore({ path: join(dir, 'jobs.db') })
        : new InMemoryJobStore(),
    images: new LocalImageStore({ root: join(dir, 'outputs') }),
    pipeline: new ImagePipeline({ mode: settings.pipeline }),
  });
  const size = { width: settings.size, height: settings.size };
  const direct = async (): Promise<void> => {
    await client.txt2imgRaw({ ...REQUEST, ...size, send_images: true, save_images: false });
  };
  const throughEngine = (): Promise<void> => runOneJob(engine, { ...REQUEST, ...size });
  const { perRound } = settings;
  try {
    await runBatch(2, 1, direct);
    await runBatch(2, 2, throughEngine);
    const rounds = {
      direct: [] as BatchTime[],
      latency: [] as BatchTime[],
      throughput: [] as BatchTime[],
    };
    for (let round = 0; round < settings.rounds; round += 1) {
      rounds.direct.push(await runBatch(perRound, 1, direct));
      rounds.latency.push(await runBatch(perRound, 1, throughEngine));
      rounds.throughput.push(await runBatch(perRound, perRound, throughEngine));
    }
    const directTiming = toTiming(rounds.direct, perRound);
    const latency = toTiming(rounds.latency, perRound);
    const throughput = toTiming(rounds.throughput, perRound);
    return {
      settings,
      direct: directTiming,
      latency,
      throughput,
      latencyOverheadMs: latency.perOpMs - directTiming.perOpMs,
      throughputOverheadMs: throughput.perOpMs - directTiming.perOpMs,
      cpuOverheadMs: throughput.cpuPerOpMs - directTiming.cpuPerOpMs,
    };
  } finally {
    await engine.close();
    await client.close();
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Submits one job and resolves when it completes (rejects when it fails). */
async function runOneJob(engine: Engine, request: Record<string, unknown>): Promise<void> {
  let jobId: string | undefined;
  const early = new Map<string, string>();
  const finished = new Promise<void>((resolve, reject) => {
    const settle = (id: string, type: string): void => {
      if (id !== jobId) {
        early.set(id, type);
        return;
      }
      stop();
      if (type === 'jobCompleted') resolve();
      else reject(new Error(`The job ended with ${type}`));
    };
    const stop = engine.subscribe((event) => {
      if (event.type === 'jobCompleted' || event.type === 'jobFailed')
        settle(event.job.id, event.type);
    });
    void engine.submit(request).then(({ job }) => {
      jobId = job.id;
      const type = early.get(job.id);
      if (type !== undefined) settle(job.id, type);
    }, reject);
  });
  await finished;
}

/** A small table of the runs. */
export function formatEngineOverhead(reports: readonly EngineOverheadReport[]): string {
  const lines = [
    'Engine overhead per job (simulator at 0 ms per step, in its own process; ms per job)',
    'setup                  size   direct  one-at-a-time  overhead  all-at-once  overhead  cpu direct  cpu engine',
  ];
  for (const report of reports) {
    const { settings } = report;
    const setup = `${settings.store}, ${settings.pipeline}`.padEnd(16);
    const size = `${settings.size}x${settings.size}`;
    lines.push(
      setup +
        size.padStart(11) +
        fixed(report.direct.perOpMs, 2) +
        fixed(report.latency.perOpMs, 2, 15) +
        fixed(report.latencyOverheadMs, 2, 10) +
        fixed(report.throughput.perOpMs, 2, 13) +
        fixed(report.throughputOverheadMs, 2, 10) +
        fixed(report.direct.cpuPerOpMs, 2, 12) +
        fixed(report.throughput.cpuPerOpMs, 2, 12),
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      'per-round': { type: 'string', default: '40' },
      size: { type: 'string', multiple: true, default: ['64', '512'] },
    },
  });
  const common = { rounds: Number(values.rounds), perRound: Number(values['per-round']) };
  const reports: EngineOverheadReport[] = [];
  for (const size of values.size.map(Number)) {
    reports.push(
      await measureEngineOverhead({ ...common, size, store: 'sqlite', pipeline: 'workers' }),
    );
  }
  // The same without the disk-backed store and the thread hop, to show what those two cost.
  const smallest = Math.min(...values.size.map(Number));
  reports.push(
    await measureEngineOverhead({ ...common, size: smallest, store: 'memory', pipeline: 'inline' }),
  );
  process.stdout.write(`${formatEngineOverhead(reports)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
