/**
 * Small timing helpers shared by the benchmarks: rounds, medians and aligned printing.
 */
import { performance } from 'node:perf_hooks';

/** The result of timing one piece of work over several rounds. */
export interface Timing {
  /** Median wall-clock milliseconds per operation over the rounds. */
  perOpMs: number;
  /** Median CPU milliseconds this process spent per operation (user + system). */
  cpuPerOpMs: number;
  /** Operations per second at the median. */
  opsPerSecond: number;
  /** Every round's milliseconds per operation, in the order they ran. */
  roundsMs: number[];
}

/** Wall-clock and CPU time of one batch, in milliseconds. */
export interface BatchTime {
  wallMs: number;
  cpuMs: number;
}

/** Runs `operation` `count` times with at most `concurrency` in flight, and times the batch. */
export async function runBatch(
  count: number,
  concurrency: number,
  operation: () => Promise<unknown>,
): Promise<BatchTime> {
  let started = 0;
  const lane = async (): Promise<void> => {
    while (started < count) {
      started += 1;
      await operation();
    }
  };
  const begin = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  const cpu = process.cpuUsage(cpuBefore);
  return { wallMs: performance.now() - begin, cpuMs: (cpu.user + cpu.system) / 1_000 };
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? upper) + upper) / 2;
}

/** Turns per-round batch times into a {@link Timing}. */
export function toTiming(rounds: readonly BatchTime[], opsPerRound: number): Timing {
  const roundsMs = rounds.map((round) => round.wallMs / opsPerRound);
  const perOpMs = median(roundsMs);
  const cpuPerOpMs = median(rounds.map((round) => round.cpuMs / opsPerRound));
  return { perOpMs, cpuPerOpMs, opsPerSecond: 1_000 / perOpMs, roundsMs };
}

/** Formats a number with a fixed count of decimals, right-aligned to `width`. */
export function fixed(value: number, decimals: number, width = 9): string {
  return value.toFixed(decimals).padStart(width);
}
