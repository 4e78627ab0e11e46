import { describe, expect, it } from 'vitest';

import { formatClientOverhead, measureClientOverhead } from '../src/client-overhead.js';
import { fetchResponseBody, formatDecode, measureDecode } from '../src/decode.js';

// These check that the benchmarks run and report consistent figures; they assert no speed.
describe('benchmarks', () => {
  it('measures client overhead against raw undici', async () => {
    const settings = { rounds: 2, perRound: 2, concurrency: 2, width: 64, height: 64 };

    const report = await measureClientOverhead(settings);

    expect(report.raw.roundsMs).toHaveLength(2);
    expect(report.client.roundsMs).toHaveLength(2);
    expect(report.raw.perOpMs).toBeGreaterThan(0);
    expect(report.raw.cpuPerOpMs).toBeGreaterThan(0);
    expect(report.ratio).toBeCloseTo(report.client.perOpMs / report.raw.perOpMs, 10);
    expect(report.cpuRatio).toBeCloseTo(report.client.cpuPerOpMs / report.raw.cpuPerOpMs, 10);
    expect(formatClientOverhead([report])).toMatch(
      /\n\s+2\s+64x64(\s+[\d.]+){2}\s+[\d.]+x(\s+[\d.]+){2}\s+[\d.]+x$/,
    );
  });

  it('measures decoding of a real simulator response, stage by stage', async () => {
    const body = await fetchResponseBody(128);

    const report = measureDecode(body, 2);

    expect(report.bodyBytes).toBe(Buffer.byteLength(body));
    expect(report.imageBytes).toBeGreaterThan(0);
    expect(report.stages.map((stage) => stage.name)).toEqual([
      'JSON.parse only',
      'client decode',
      'decode + PNG infotext',
    ]);
    for (const stage of report.stages) {
      expect(stage.megabytesPerSecond).toBeCloseTo(
        (report.bodyBytes * stage.resultsPerSecond) / 1e6,
      );
    }
    expect(formatDecode(report)).toContain('decode + PNG infotext');
  });
});
