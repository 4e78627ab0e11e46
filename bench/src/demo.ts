/**
 * The demo behind `npm start`: starts the simulated Forge server (unless FORGE_URL names a real
 * one), runs one txt2img through the Forge client while showing Forge's progress, saves the PNG
 * and prints the infotext read back from it. The simulator then keeps serving until Ctrl+C, so
 * other Forge clients can be pointed at it; `--once` exits after the generation instead.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { ForgeClient, probeCapabilities, readPngParameters } from '@forge-tool/core';
import { startForgeSim, type ForgeSim } from '@forge-tool/forge-sim';

/** Options of one demo run. */
export interface DemoOptions {
  /** A real Forge server to use; when absent the simulator is started. */
  forgeUrl?: string;
  /** Port of the simulator; 0 picks a free one. */
  port: number;
  prompt: string;
  outputDir: string;
  /** Where lines go. */
  print: (line: string) => void;
}

/** What one demo generation produced. */
export interface DemoResult {
  file: string;
  seed: number;
  infotext: string;
  /** The simulator, still running, when the demo started one. */
  sim: ForgeSim | undefined;
}

/** Runs one generation as `npm start` does and returns where the image went. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const sim = options.forgeUrl === undefined ? await startSimulator(options) : undefined;
  const baseUrl = options.forgeUrl ?? sim?.url ?? '';
  const client = new ForgeClient({ baseUrl, name: sim ? 'simulated-forge' : 'forge' });
  try {
    const capabilities = await probeCapabilities(client);
    options.print(
      `Backend ${client.name}: ${capabilities.checkpoints.length} checkpoints, ` +
        `${capabilities.samplers.length} samplers, ${capabilities.schedulers.length} schedulers, ` +
        `${capabilities.upscalers.length} upscalers, ${capabilities.loras.length} LoRAs`,
    );
    const result = await generateWithProgress(client, options);
    return { ...result, sim };
  } catch (error) {
    await sim?.close();
    throw error;
  } finally {
    await client.close();
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

async function generateWithProgress(
  client: ForgeClient,
  options: DemoOptions,
): Promise<Omit<DemoResult, 'sim'>> {
  options.print(`Generating "${options.prompt}" (20 steps, 512x512)...`);
  const watcher = watchProgress(client, options.print);
  try {
    const result = await client.txt2img({
      prompt: options.prompt,
      steps: 20,
      sampler_name: 'Euler a',
    });
    const image = result.images[0];
    if (image === undefined) throw new Error('Forge returned no image');
    await mkdir(options.outputDir, { recursive: true });
    const file = join(options.outputDir, `forge-${result.info.seed}.png`);
    await writeFile(file, image);
    const infotext = readPngParameters(image) ?? '(no parameters chunk in the PNG)';
    options.print(`Saved ${file} (${image.length} bytes). Its parameters:\n${infotext}`);
    return { file, seed: result.info.seed, infotext };
  } finally {
    watcher.stop();
  }
}

/** Polls Forge's progress while a generation runs and prints each new quarter reached. */
function watchProgress(client: ForgeClient, print: (line: string) => void): { stop(): void } {
  let lastQuarter = 0;
  const timer = setInterval(() => {
    client
      .progress({ skipCurrentImage: true, timeoutMs: 2_000 })
      .then(({ progress, state }) => {
        const quarter = Math.floor(progress * 4);
        if (state.job_count === 0 || quarter <= lastQuarter || quarter >= 4) return;
        lastQuarter = quarter;
        print(`  ${quarter * 25}%  step ${state.sampling_step + 1}/${state.sampling_steps}`);
      })
      .catch(() => {
        // Progress is only shown to the user; a missed poll changes nothing.
      });
  }, 100);
  return { stop: () => clearInterval(timer) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      once: { type: 'boolean', default: false },
      port: { type: 'string', default: '7860' },
      prompt: { type: 'string', default: 'a lighthouse on a cliff at dusk, oil painting' },
      out: { type: 'string', default: 'outputs' },
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
    outputDir: resolve(values.out),
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
