/**
 * Benchmark (a): what the Forge client adds over raw undici requests.
 *
 * Both sides send the same txt2img request to the simulator, running in its own process at 0 ms
 * per step, so the simulator's own work (synthesising and encoding the PNG) is the same on both sides and the
 * difference is the client: option handling, the zod check of the response, base64 decoding of the
 * images and parsing of `info`. Rounds alternate between the two sides so that machine noise hits
 * both alike; the median round is reported.
 *
 * Run: `npm run bench` at the root, or `node bench/dist/client-overhead.js [--rounds N] [--per-round N]`.
 */
import { parseArgs } from 'node:util';

import { ForgeClient } from '@forge-tool/core';
import { Pool } from 'undici';

import { fixed, runBatch, toTiming, type BatchTime, type Timing } from './measure.js';
import { startSimProcess } from './sim-process.js';

/** Settings of one benchmark run. */
export interface ClientOverheadSettings {
  rounds: number;
  perRound: number;
  concurrency: number;
  width: number;
  height: number;
}

/** The figures of one run: per-call timings of each side, and their ratio. */
export interface ClientOverheadReport {
  settings: ClientOverheadSettings;
  raw: Timing;
  client: Timing;
  /** client / raw wall-clock time per call, from the medians. */
  ratio: number;
  /** client / raw CPU time of the calling process per call, from the medians. */
  cpuRatio: number;
}

const REQUEST = {
  prompt: 'a lighthouse on a cliff at dusk, oil painting',
  negative_prompt: 'blurry',
  steps: 20,
  sampler_name: 'Euler a',
  cfg_scale: 7,
  seed: 1234,
};

/** Measures client overhead against raw undici with the given settings. */
export async function measureClientOverhead(
  settings: ClientOverheadSettings,
): Promise<ClientOverheadReport> {
  const sim = await startSimProcess(['--step-ms', '0', '--image-ms', '0', '--load-ms', '0']);
  const connections = Math.max(settings.concurrency, 1);
  const pool = new Pool(sim.url, { connections });
  const client = new ForgeClient({ baseUrl: sim.url, connections });
  const body = JSON.stringify({ ...REQUEST, width: settings.width, height: settings.height });

  const rawCall = async (): Promise<void> => {
    const response = await pool.request({
      method: 'POST',
      path: '/sdapi/v1/txt2img',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await response.body.json();
  };
  const clientCall = async (): Promise<void> => {
    await client.txt2img({ ...REQUEST, width: settings.width, height: settings.height });
  };

  try {
    // One warm-up round per side: connections, JIT and the simulator's first image.
    await runBatch(settings.concurrency, settings.concurrency, rawCall);
    await runBatch(settings.concurrency, settings.concurrency, clientCall);
    const rawRounds: BatchTime[] = [];
    const clientRounds: BatchTime[] = [];
    for (let round = 0; round < settings.rounds; round += 1) {
      rawRounds.push(await runBatch(settings.perRound, settings.concurrency, rawCall));
      clientRounds.push(await runBatch(settings.perRound, settings.concurrency, clientCall));
    }
    const raw = toTiming(rawRounds, settings.perRound);
    const clientTiming = toTiming(clientRounds, settings.perRound);
    return {
      settings,
      raw,
      client: clientTiming,
      ratio: clientTiming.perOpMs / raw.perOpMs,
      cpuRatio: clientTiming.cpuPerOpMs / raw.cpuPerOpMs,
    };
  } finally {
    await client.close();
    await pool.close();
    await sim.stop();
  }
}

/** One table row per report. */
export function formatClientOverhead(reports: readonly ClientOverheadReport[]): string {
  const lines = [
    'Client overhead: txt2img through ForgeClient vs raw undici, simulator at 0 ms/step',
    '(wall = ms per call as the caller sees it; cpu = ms of CPU the calling process spent per call)',
    'concurrency       size  raw wall  client wall  ratio  raw cpu  client cpu  cpu ratio',
  ];
  for (const { settings, raw, client, ratio, cpuRatio } of reports) {
    lines.push(
      [
        String(settings.concurrency).padStart(11),
        `${settings.width}x${settings.height}`.padStart(10),
        fixed(raw.perOpMs, 2, 9),
        fixed(client.perOpMs, 2, 12),
        `${ratio.toFixed(3)}x`.padStart(6),
        fixed(raw.cpuPerOpMs, 2, 8),
        fixed(client.cpuPerOpMs, 2, 11),
        `${cpuRatio.toFixed(3)}x`.padStart(10),
      ].join(' '),
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '15' },
      'per-round': { type: 'string', default: '20' },
    },
  });
  const rounds = Number(values.rounds);
  const perRound = Number(values['per-round']);
  const reports: ClientOverheadReport[] = [];
  for (const [concurrency, size] of [
    [1, 512],
    [8, 512],
    [1, 1024],
  ] as const) {
    const settings = { rounds, perRound, concurrency, width: size, height: size };
    reports.push(await measureClientOverhead(settings));
  }
  process.stdout.write(`${formatClientOverhead(reports)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
