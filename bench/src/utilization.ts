/**
 * Benchmark (2): how busy the engine keeps its backends.
 *
 * Four simulators, each in its own process, take 100 ms per image (0 ms per step and per load, so
 * every job costs the same 100 ms of "GPU" time). 500 one-image jobs from five owners are
 * submitted at once to an engine (SQLite job store, local image folder, worker-thread pipeline).
 * The ideal is every backend busy all the time: total image time / backends. Utilization is the
 * ideal over the time achieved, from the first submit to the last completion, so it counts
 * everything the engine adds between two generations on a backend (dispatch, store writes, the
 * HTTP exchange) and also the simulator's own per-request work (HTTP, JSON, PNG, timer lateness).
 *
 * To tell the two apart, the same simulators are first driven directly, each by its own client
 * sending the same number of requests back to back: that is the most any caller can get out of
 * them on this machine. The engine's share is its time against that direct time.
 *
 * Run: `npm run bench` at the root, or
 * `node bench/dist/utilization.js [--backends N] [--jobs N] [--image-ms MS] [--size PX] [--prefetch]`;
 * `--prefetch` turns on the engine option that sends each backend one job ahead.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import {
  Engine,
  ForgeClient,
  ImagePipeline,
  LocalImageStore,
  SqliteJobStore,
} from '@forge-tool/core';

import { fixed } from './measure.js';
import { startSimProcess, type SimProcess } from './sim-process.js';

/** Settings of one run. */
export interface UtilizationSettings {
  backends: number;
  jobs: number;
  /** Simulated time per image. */
  imageMs: number;
  /** Width and height of each job's one image. */
  size: number;
  /** Owners the jobs are spread over. */
  owners: number;
  /** The engine's `prefetch` option: each backend holds one job sent ahead. @defaultValue `false` */
  prefetch?: boolean;
}

/** The figures of one run. */
export interface UtilizationReport {
  settings: UtilizationSettings;
  /** Total image time / backends. */
  idealMs: number;
  /** First submit to last completion. */
  achievedMs: number;
  /** idealMs / achievedMs. */
  utilization: number;
  /** Jobs completed per second. */
  jobsPerSecond: number;
  /** Jobs each backend ran, in configuration order. */
  jobsPerBackend: number[];
  /** The same requests sent directly, back to back per simulator: first to last answer. */
  directMs: number;
  /** idealMs / directMs: what the simulators themselves allow. */
  directUtilization: number;
  /** directMs / achievedMs: the engine's throughput against direct calls. */
  engineEfficiency: number;
}

/** Runs the jobs through an engine over simulators and measures utilization. */
export async function measureUtilization(
  settings: UtilizationSettings,
): Promise<UtilizationReport> {
  const flags = ['--step-ms', '0', '--load-ms', '0', '--image-ms', String(settings.imageMs)];
  const sims: SimProcess[] = await Promise.all(
    Array.from({ length: settings.backends }, () => startSimProcess(flags)),
  );
  const directMs = await runDirect(sims, settings);
  const dir = await mkdtemp(join(tmpdir(), 'forge-tool-bench-'));
  const engine = await Engine.start({
    backends: sims.map((sim, index) => ({ name: `sim-${index}`, url: sim.url })),
    store: new SqliteJobStore({ path: join(dir, 'jobs.db') }),
    images: new LocalImageStore({ root: join(dir, 'outputs') }),
    pipeline: new ImagePipeline({ mode: 'workers' }),
    prefetch: settings.prefetch ?? false,
  });
  try {
    const report = await runJobs(engine, settings);
    return {
      ...report,
      directMs,
      directUtilization: report.idealMs / directMs,
      engineEfficiency: directMs / report.achievedMs,
    };
  } finally {
    await engine.close();
    await Promise.all(sims.map((sim) => sim.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}

/** Each simulator answers its share of the jobs to its own client, back to back. */
async function runDirect(
  sims: readonly SimProcess[],
  settings: UtilizationSettings,
): Promise<number> {
  const perSim = Math.ceil(settings.jobs / sims.length);
  const request = {
    prompt: 'direct',
    width: settings.size,
    height: settings.size,
    steps: 1,
    send_images: true,
    save_images: false,
  };
  const started = performance.now();
  await Promise.all(
    sims.map(async (sim) => {
      const client = new ForgeClient({ baseUrl: sim.url });
      for (let call = 0; call < perSim; call += 1) await client.txt2imgRaw(request);
      await client.close();
    }),
  );
  return performance.now() - started;
}

type EngineFigures = Omit<UtilizationReport, 'directMs' | 'directUtilization' | 'engineEfficiency'>;

async function runJobs(engine: Engine, settings: UtilizationSettings): Promise<EngineFigures> {
  const perBackend = new Map<string, number>();
  let completed = 0;
  const allDone = new Promise<void>((resolve, reject) => {
    engine.subscribe((event) => {
      if (event.type === 'jobFailed') reject(new Error(`A job failed: ${event.error.message}`));
      if (event.type !== 'jobCompleted') return;
      const backend = event.job.backend ?? '?';
      perBackend.set(backend, (perBackend.get(backend) ?? 0) + 1);
      completed += 1;
      if (completed === settings.jobs) resolve();
    });
  });
  const started = performance.now();
  for (let index = 0; index < settings.jobs; index += 1) {
    await engine.submit({
      prompt: `job ${index}`,
      width: settings.size,
      height: settings.size,
      steps: 1,
      owner: { id: `owner-${index % settings.owners}` },
    });
  }
  await allDone;
  const achievedMs = performance.now() - started;
  const idealMs = (settings.jobs * settings.imageMs) / settings.backends;
  const names = (await engine.backends()).map((backend) => backend.name);
  return {
    settings,
    idealMs,
    achievedMs,
    utilization: idealMs / achievedMs,
    jobsPerSecond: (settings.jobs * 1_000) / achievedMs,
    jobsPerBackend: names.map((name) => perBackend.get(name) ?? 0),
  };
}

/** A small table of the run. */
export function formatUtilization(report: UtilizationReport): string {
  const { settings } = report;
  const percent = (value: number): string => `${fixed(value * 100, 2, 12)}%`;
  return [
    `Backend utilization: ${settings.jobs} jobs of one ${settings.size}x${settings.size} image, ` +
      `${settings.backends} backends at ${settings.imageMs} ms per image, ${settings.owners} owners` +
      (settings.prefetch === true ? ', prefetch on' : ''),
    '            ideal ms  wall ms  utilization  engine/direct  jobs/s  jobs per backend',
    'direct    ' +
      fixed(report.idealMs, 0, 10) +
      fixed(report.directMs, 0, 9) +
      percent(report.directUtilization),
    'engine    ' +
      fixed(report.idealMs, 0, 10) +
      fixed(report.achievedMs, 0, 9) +
      percent(report.utilization) +
      `${fixed(report.engineEfficiency * 100, 2, 14)}%` +
      fixed(report.jobsPerSecond, 1, 8) +
      `  ${report.jobsPerBackend.join(' / ')}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backends: { type: 'string', default: '4' },
      jobs: { type: 'string', default: '500' },
      'image-ms': { type: 'string', default: '100' },
      size: { type: 'string', default: '64' },
      owners: { type: 'string', default: '5' },
      prefetch: { type: 'boolean', default: false },
    },
  });
  const report = await measureUtilization({
    backends: Number(values.backends),
    jobs: Number(values.jobs),
    imageMs: Number(values['image-ms']),
    size: Number(values.size),
    owners: Number(values.owners),
    prefetch: values.prefetch,
  });
  process.stdout.write(`${formatUtilization(report)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
