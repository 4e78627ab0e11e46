import { describe, expect, it } from 'vitest';

import { formatEngineOverhead, measureEngineOverhead } from '../src/engine-overhead.js';
import { formatQueueMemory, measureQueueMemory } from '../src/queue-memory.js';
import { formatUtilization, measureUtilization } from '../src/utilization.js';

// These check that the engine benchmarks run and report consistent figures; they assert no speed.
describe('engine benchmarks', () => {
  it('measures the engine overhead per job against direct calls', async () => {
    const report = await measureEngineOverhead({
      rounds: 2,
      perRound: 3,
      size: 64,
      store: 'memory',
      pipeline: 'inline',
    });

    expect(report.direct.roundsMs).toHaveLength(2);
    expect(report.latency.roundsMs).toHaveLength(2);
    expect(report.throughput.roundsMs).toHaveLength(2);
    expect(report.latencyOverheadMs).toBeCloseTo(
      report.latency.perOpMs - report.direct.perOpMs,
      10,
    );
    expect(report.throughputOverheadMs).toBeCloseTo(
      report.throughput.perOpMs - report.direct.perOpMs,
      10,
    );
    expect(formatEngineOverhead([report])).toMatch(/\nmemory, inline\s+64x64(\s+-?[\d.]+){7}$/);
  });

  it('measures backend utilization over simulators', async () => {
    const settings = { backends: 2, jobs: 12, imageMs: 20, size: 64, owners: 3 };

    const report = await measureUtilization(settings);

    expect(report.jobsPerBackend.reduce((sum, count) => sum + count, 0)).toBe(12);
    expect(report.idealMs).toBe(120);
    expect(report.utilization).toBeCloseTo(report.idealMs / report.achievedMs, 10);
    expect(report.engineEfficiency).toBeCloseTo(report.directMs / report.achievedMs, 10);
    expect(report.utilization).toBeGreaterThan(0);
    expect(report.utilization).toBeLessThanOrEqual(1);
    expect(formatUtilization(report)).toMatch(/engine\s+120\s+\d+\s+[\d.]+%/);
  });

  it('measures memory and queue operations with many queued jobs', async () => {
    const report = await measureQueueMemory({ jobs: 500, owners: 20 });

    expect(report.engine.submitsPerSecond).toBeGreaterThan(0);
    expect(report.engine.estimateMicros).toBeGreaterThan(0);
    expect(report.queue.heapBytesPerEntry).toBeGreaterThan(0);
    expect(report.queue.pickMicros).toBeGreaterThan(0);
    expect(formatQueueMemory(report)).toContain('Memory with 500 queued jobs from 20 owners');
  });
});
