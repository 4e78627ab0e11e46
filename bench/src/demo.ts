/**
 * The demo behind `npm start`: starts the simulated Forge server (unless FORGE_URL names a real
 * one), starts the job engine on it with its embedded defaults (SQLite job store, local image
 * folder, worker-thread image pipeline), submits one txt2img job, prints its progress from the
 * engine's events, and prints where the image was stored with the infotext read back from it.
 * The simulator then keeps serving until Ctrl+C, so other Forge clients can be pointed at it;
 * `--once` exits after the job instead.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { createEngine, readPngParameters, type Engine, type EngineEvent } from '@forge-tool/core';
import { startForgeSim, type ForgeSim } from '@forge-tool/forge-sim';

/** Options of one demo run. */
export interface DemoOptions {
  /** A real Forge server to use; when absent the simulator is started. */
  forgeUrl?: string;
  /** Port of the simulator; 0 picks a free one. */
  port: number;
  prompt: string;
  /** Where the job database and the image folder go. */
  dataDir: string;
  /** Where lines go. */
  print: (line: string) => void;
}

/** What one demo job produced. */
export interface DemoResult {
  jobId: string;
  /** The stored PNG. */
  file: string;
  seed: number;
  infotext: string;
  /** The simulator, still running, when the demo started one. */
  sim: ForgeSim | undefined;
}

/** Runs one job as `npm start` does and returns where its image went. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const sim = options.forgeUrl === undefined ? await startSimulator(options) : undefined;
  const url = options.forgeUrl ?? sim?.url ?? '';
  try {
    await mkdir(options.dataDir, { recursive: true });
    const engine = await createEngine({
      backends: [{ name: sim ? 'simulated-forge' : 'forge', url }],
      database: { path: join(options.dataDir, 'forge-tool.db') },
      images: { root: join(options.dataDir, 'outputs') },
    });
    try {
      return { ...(await runOneJob(engine, options)), sim };
    } finally {
      await engine.close();
    }
  } catch (error) {
    await sim?.close();
    throw error;
  }
}

async function startSimulator(options: DemoOptions): Promise<ForgeSim> {
  const sim = await startForgeSim({ port: options.port, stepMs: 50 }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new Error(
      `Port ${options.port} is already in use. If a Forge server runs there, use it with ` +
        `FORGE_URL=http://127.0.0.1:${options.port}; otherwise pass --port with a free port.`,
      { cause: error },
    );
  });
  options.print(
    `SIMULATED Forge server (synthetic images, no GPU) listening on ${sim.url}. ` +
      'Set FORGE_URL to use a real Forge server started with --api.',
  );
  return sim;
}

async function runOneJob(engine: Engine, options: DemoOptions): Promise<Omit<DemoResult, 'sim'>> {
  const [backend] = await engine.backends();
  const capabilities = await engine.capabilities();
  options.print(
    `Engine ready: backend ${backend?.name} is ${backend?.status}; ` +
      `${capabilities.checkpoints.length} checkpoints, ${capabilities.samplers.length} samplers.`,
  );
  const finished = waitForFinish(engine, options.print);
  const { job } = await engine.submit({
    prompt: options.prompt,
    width: 512,
    height: 512,
    sampler: 'Euler a',
    owner: { id: 'demo', source: 'api' },
  });
  const done = await finished(job.id);
  const image = done.result?.images[0];
  if (done.status !== 'completed' || image === undefined) {
    throw new Error(`Job ${done.id} ${done.status}: ${done.error?.message ?? 'no image'}`);
  }
  const png = await engine.getImage(done.id, 0);
  const file = resolve(options.dataDir, 'outputs', image.key);
  const infotext = readPngParameters(png) ?? '(no parameters chunk in the PNG)';
  options.print(`Stored ${file} (${png.length} bytes, sha256 ${image.sha256.slice(0, 12)}...)`);
  options.print(`Its parameters:\n${infotext}`);
  return { jobId: done.id, file, seed: image.seed, infotext };
}

/** Prints a job's events as they come and resolves with its record when it finishes. */
function waitForFinish(engine: Engine, print: (line: string) => void) {
  const finished = new Map<string, (event: EngineEvent) => void>();
  let lastQuarter = 0;
  const unsubscribe = engine.subscribe((event) => {
    if (event.type === 'jobQueued') {
      print(`Queued ${event.job.id}: "${event.job.request.prompt}" (20 steps, 512x512)`);
      if (event.job.resolved.prompt !== event.job.request.prompt) {
        print(`  wildcards resolved it to "${event.job.resolved.prompt}"`);
      }
    }
    if (event.type === 'jobStarted') print(`  started on ${event.backend}`);
    if (event.type === 'jobProgress') {
      const quarter = Math.floor(event.progress.percent / 25);
      if (quarter > lastQuarter && quarter < 4) {
        lastQuarter = quarter;
        print(`  ${quarter * 25}%  step ${event.progress.step}/${event.progress.totalSteps}`);
      }
    }
    if ('job' in event && ['jobCompleted', 'jobFailed', 'jobCancelled'].includes(event.type)) {
      finished.get(event.job.id)?.(event);
    }
  });
  return (jobId: string) =>
    new Promise<NonNullable<Awaited<ReturnType<Engine['get']>>>>((resolveJob) => {
      finished.set(jobId, (event) => {
        unsubscribe();
        if ('job' in event) resolveJob(event.job);
      });
    });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      once: { type: 'boolean', default: false },
      port: { type: 'string', default: '7860' },
      prompt: {
        type: 'string',
        default: 'a lighthouse on a cliff at {dawn|dusk}, __lighting__, oil painting',
      },
      data: { type: 'string', default: 'data' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`--port must be an integer from 0 to 65535, got "${values.port}"`);
  }
  const print = (line: string): void => void process.stdout.write(`${line}\n`);
  const forgeUrl = process.env['FORGE_URL'];
  const { sim } = await runDemo({
    ...(forgeUrl ? { forgeUrl } : {}),
    port,
    prompt: values.prompt,
    dataDir: resolve(values.data),
    print,
  });
  if (sim === undefined) return;
  if (values.once) return sim.close();
  print(`The SIMULATED Forge server keeps running at ${sim.url}; press Ctrl+C to stop it.`);
  const stop = (): void => void sim.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
