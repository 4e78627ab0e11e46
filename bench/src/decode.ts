/**
 * Benchmark (b): decoding throughput for one 1024x1024 txt2img result.
 *
 * The simulator produces one real response body (base64 PNG, `parameters` echo, `info` string);
 * the benchmark then decodes that same body over and over, stage by stage: JSON parsing alone,
 * the client's full decode (zod check, base64 to bytes, `info` parsed and checked), and the full
 * decode plus reading the PNG's `parameters` chunk and parsing the infotext.
 *
 * Run: `npm run bench` at the root, or `node bench/dist/decode.js [--iterations N]`.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { GenerationResultSchema, parseInfotext, readPngParameters } from '@forge-tool/core';

import { fetchResultBody } from './event-loop-lag.js';
import { fixed, median } from './measure.js';

/** One decoding stage and its figures. */
export interface DecodeStage {
  name: string;
  perResultMs: number;
  resultsPerSecond: number;
  /** Response-body megabytes (10^6 bytes) decoded per second. */
  megabytesPerSecond: number;
}

/** The figures of one run. */
export interface DecodeReport {
  bodyBytes: number;
  imageBytes: number;
  stages: DecodeStage[];
}

/** One txt2img response body of the given size from a simulator, as text. */
export async function fetchResponseBody(size: number): Promise<string> {
  return Buffer.from(await fetchResultBody(size)).toString('utf8');
}

const STAGES: ReadonlyArray<[string, (body: string) => unknown]> = [
  ['JSON.parse only', (body) => JSON.parse(body)],
  ['client decode', (body) => GenerationResultSchema.parse(JSON.parse(body))],
  [
    'decode + PNG infotext',
    (body) => {
      const result = GenerationResultSchema.parse(JSON.parse(body));
      const image = result.images[0];
      if (image === undefined) throw new Error('the response has no image');
      return parseInfotext(readPngParameters(image) ?? '');
    },
  ],
];

/** Decodes `body` `iterations` times per stage, in 5 rounds, and reports the median round. */
export function measureDecode(body: string, iterations: number): DecodeReport {
  const bodyBytes = Buffer.byteLength(body);
  const first = GenerationResultSchema.parse(JSON.parse(body));
  const imageBytes = first.images[0]?.length ?? 0;
  const stages = STAGES.map(([name, decode]): DecodeStage => {
    const rounds: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      const begin = performance.now();
      for (let index = 0; index < iterations; index += 1) decode(body);
      rounds.push((performance.now() - begin) / iterations);
    }
    const perResultMs = median(rounds);
    const resultsPerSecond = 1_000 / perResultMs;
    return {
      name,
      perResultMs,
      resultsPerSecond,
      megabytesPerSecond: (bodyBytes * resultsPerSecond) / 1e6,
    };
  });
  return { bodyBytes, imageBytes, stages };
}

/** A small table of the stages. */
export function formatDecode(report: DecodeReport): string {
  const lines = [
    `Decoding one 1024x1024 txt2img result: body ${(report.bodyBytes / 1e6).toFixed(2)} MB, ` +
      `PNG ${(report.imageBytes / 1e6).toFixed(2)} MB`,
    'stage                     ms/result  results/s   MB/s',
  ];
  for (const stage of report.stages) {
    lines.push(
      stage.name.padEnd(24) +
        fixed(stage.perResultMs, 2, 11) +
        fixed(stage.resultsPerSecond, 1, 11) +
        fixed(stage.megabytesPerSecond, 1, 7),
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { iterations: { type: 'string', default: '20' } } });
  const body = await fetchResponseBody(1024);
  process.stdout.write(`${formatDecode(measureDecode(body, Number(values.iterations)))}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
