/**
 * Benchmark (c): event-loop lag while 1024x1024 results are processed, with the image pipeline
 * on worker threads and inline on the main thread.
 *
 * The simulator produces one real txt2img response body once; the benchmark then feeds copies
 * of it to an `ImagePipeline` (JSON parse, base64, PNG checks, job-id chunk, sha256, preview),
 * a few results in flight at a time, as results arrive from several backends. Meanwhile a 1 ms
 * timer on the main thread records how late each tick fires: that lateness is the event-loop
 * lag every HTTP request, WebSocket message and progress poll of the server would suffer.
 * An idle run of the same timer gives the floor the machine itself sets.
 *
 * Run: `npm run bench` at the root, or
 * `node bench/dist/event-loop-lag.js [--results N] [--size PX] [--in-flight N]`.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { ForgeClient, ImagePipeline, type ImagePipelineMode } from '@forge-tool/core';
import { startForgeSim } from '@forge-tool/forge-sim';

import { fixed } from './measure.js';

/** Settings of one run. */
export interface EventLoopLagSettings {
  /** Results processed per mode. */
  results: number;
  /** Width and height of each result's one image. */
  size: number;
  /** Results in flight at once. */
  inFlight: number;
  /** Worker threads of the pool (default: the pipeline's own default). */
  threads?: number;
}

/** Lag figures of one mode. */
export interface LagFigures {
  mode: ImagePipelineMode | 'idle';
  /** Timer ticks observed. */
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Wall-clock time to process all results. */
  wallMs: number;
  /** Results processed per second (0 for the idle run). */
  resultsPerSecond: number;
}

/** The figures of a whole run. */
export interface EventLoopLagReport {
  settings: EventLoopLagSettings;
  bodyBytes: number;
  runs: LagFigures[];
}

const TICK_MS = 1;
const WARM_UP_RESULTS = 2;

/**
 * Records how late a chain of 1 ms timers fires. Each tick's lag is the time since the tick
 * was asked for, minus the 1 ms asked for; a blocked event loop shows up as one long tick.
 */
class LagSampler {
  readonly #lagsMs: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  #askedAt = 0;

  start(): void {
    this.#schedule();
  }

  /** Stops, counting the tick still pending: a loop blocked until now is lag too. */
  stop(): number[] {
    clearTimeout(this.#timer);
    const pendingMs = performance.now() - this.#askedAt - TICK_MS;
    if (pendingMs > 0) this.#lagsMs.push(pendingMs);
    return this.#lagsMs;
  }

  #schedule(): void {
    this.#askedAt = performance.now();
    this.#timer = setTimeout(() => {
      this.#lagsMs.push(Math.max(0, performance.now() - this.#askedAt - TICK_MS));
      this.#schedule();
    }, TICK_MS);
  }
}

/** One txt2img response body with a single `size` x `size` image, from a simulator. */
export async function fetchResultBody(size: number): Promise<Uint8Array> {
  const sim = await startForgeSim({ port: 0, stepMs: 0, imageMs: 0, loadMs: 0 });
  const forge = new ForgeClient({ baseUrl: sim.url, name: 'bench-sim' });
  try {
    const request = { prompt: 'a harbour in the rain', width: size, height: size, seed: 7 };
    return await forge.txt2imgRaw(request);
  } finally {
    await forge.close();
    await sim.close();
  }
}

/**
 * Lets results start one per event-loop turn, as responses from backends arrive, each in an I/O
 * callback of its own. Without it, inline processing would chain results through microtasks
 * and never let the timer run at all.
 */
class ArrivalGate {
  readonly #waiting: Array<() => void> = [];
  #scheduled = false;

  async next(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#waiting.push(resolve);
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#scheduled || this.#waiting.length === 0) return;
    this.#scheduled = true;
    // An immediate queued from inside an immediate runs on the next turn, after the timers.
    setImmediate(() => {
      this.#scheduled = false;
      this.#waiting.shift()?.();
      this.#pump();
    });
  }
}

/** Processes `count` copies of `body`, at most `inFlight` at once, one arrival per turn. */
async function processCopies(
  pipeline: ImagePipeline,
  body: Uint8Array,
  count: number,
  inFlight: number,
): Promise<void> {
  const gate = new ArrivalGate();
  let started = 0;
  const lane = async (): Promise<void> => {
    while (started < count) {
      started += 1;
      const jobId = `job_bench_${started}`;
      await gate.next();
      const result = await pipeline.processGeneration(new Uint8Array(body), { jobId });
      if (result.images.length !== 1) throw new Error('expected one image per result');
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
}

/** Measures the lag while one pipeline mode processes the results. */
export async function measureMode(
  body: Uint8Array,
  mode: ImagePipelineMode,
  settings: EventLoopLagSettings,
): Promise<LagFigures> {
  const threads = settings.threads === undefined ? {} : { threads: settings.threads };
  const pipeline = new ImagePipeline({ mode, ...threads });
  try {
    await processCopies(pipeline, body, WARM_UP_RESULTS, settings.inFlight);
    const sampler = new LagSampler();
    const begin = performance.now();
    sampler.start();
    await processCopies(pipeline, body, settings.results, settings.inFlight);
    const lags = sampler.stop();
    const wallMs = performance.now() - begin;
    return {
      mode,
      wallMs,
      resultsPerSecond: (settings.results * 1_000) / wallMs,
      ...summarise(lags),
    };
  } finally {
    await pipeline.close();
  }
}

/** Measures the lag of an idle event loop for `durationMs`. */
export async function measureIdle(durationMs: number): Promise<LagFigures> {
  const sampler = new LagSampler();
  sampler.start();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  const lags = sampler.stop();
  return { mode: 'idle', wallMs: durationMs, resultsPerSecond: 0, ...summarise(lags) };
}

/** Runs idle, workers and inline with one real simulator body. */
export async function measureEventLoopLag(
  settings: EventLoopLagSettings,
): Promise<EventLoopLagReport> {
  const body = await fetchResultBody(settings.size);
  const workers = await measureMode(body, 'workers', settings);
  const inline = await measureMode(body, 'inline', settings);
  const idle = await measureIdle(Math.min(2_000, workers.wallMs));
  return { settings, bodyBytes: body.byteLength, runs: [idle, workers, inline] };
}

function summarise(
  lagsMs: readonly number[],
): Pick<LagFigures, 'samples' | 'p50Ms' | 'p99Ms' | 'maxMs'> {
  const sorted = [...lagsMs].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.at(-1) ?? 0,
  };
}

/** The nearest-rank percentile of an ascending list (0 when empty). */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(fraction * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? 0;
}

/** A small table of the runs. */
export function formatEventLoopLag(report: EventLoopLagReport): string {
  const { settings } = report;
  const lines = [
    `Event-loop lag while ${settings.results} ${settings.size}x${settings.size} results are ` +
      `processed (${settings.inFlight} in flight, body ${(report.bodyBytes / 1e6).toFixed(2)} MB)`,
    'mode      ticks   p50 ms   p99 ms   max ms   wall ms  results/s',
  ];
  for (const run of report.runs) {
    lines.push(
      run.mode.padEnd(8) +
        String(run.samples).padStart(7) +
        fixed(run.p50Ms, 2) +
        fixed(run.p99Ms, 2) +
        fixed(run.maxMs, 2) +
        fixed(run.wallMs, 0, 10) +
        fixed(run.resultsPerSecond, 1, 11),
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      results: { type: 'string', default: '40' },
      size: { type: 'string', default: '1024' },
      'in-flight': { type: 'string', default: '4' },
    },
  });
  const report = await measureEventLoopLag({
    results: Number(values.results),
    size: Number(values.size),
    inFlight: Number(values['in-flight']),
  });
  process.stdout.write(`${formatEventLoopLag(report)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
