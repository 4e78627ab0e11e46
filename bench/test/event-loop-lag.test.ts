import { describe, expect, it } from 'vitest';

import { formatEventLoopLag, measureEventLoopLag, percentile } from '../src/event-loop-lag.js';

// This checks that the benchmark runs and that its figures add up; it asserts no speed.
describe('event-loop lag benchmark', () => {
  it('measures idle, workers and inline runs on a real simulator body', async () => {
    const settings = { results: 3, size: 128, inFlight: 2, threads: 1 };

    const report = await measureEventLoopLag(settings);

    expect(report.bodyBytes).toBeGreaterThan(1_000);
    expect(report.runs.map((run) => run.mode)).toEqual(['idle', 'workers', 'inline']);
    for (const run of report.runs) {
      expect(run.samples).toBeGreaterThan(0);
      expect(run.p50Ms).toBeGreaterThanOrEqual(0);
      expect(run.p50Ms).toBeLessThanOrEqual(run.p99Ms);
      expect(run.p99Ms).toBeLessThanOrEqual(run.maxMs);
      expect(run.wallMs).toBeGreaterThan(0);
    }
    for (const run of report.runs.slice(1)) {
      expect(run.resultsPerSecond).toBeCloseTo((settings.results * 1_000) / run.wallMs, 6);
    }
    const table = formatEventLoopLag(report);
    expect(table).toContain('3 128x128 results');
    expect(table.split('\n')).toHaveLength(5);
    expect(table).toMatch(/\ninline\s+\d+(\s+[\d.]+){5}$/);
  });

  it('takes nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentile(sorted, 0.5)).toBe(50);
    expect(percentile(sorted, 0.99)).toBe(99);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBe(0);
  });
});
