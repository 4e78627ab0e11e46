import { describe, expect, it } from 'vitest';

import {
  COMBINATIONS,
  WILDCARD_TEMPLATES,
  formatWildcards,
  measureWildcards,
} from '../src/wildcards.js';

// This checks that the benchmark runs and reports consistent figures; it asserts no speed.
describe('wildcard benchmark', () => {
  it('measures expansion, combinations and loading, with figures that add up', async () => {
    const report = await measureWildcards({ rounds: 2, perRound: 200 });

    expect(report.expansions.map((row) => [row.name, row.template])).toEqual([
      ['simple', WILDCARD_TEMPLATES.simple],
      ['simple, parsed every time', WILDCARD_TEMPLATES.simple],
      ['nested, three levels', WILDCARD_TEMPLATES.nested],
    ]);
    for (const row of report.expansions) {
      expect(row.roundsMicroseconds).toHaveLength(2);
      expect(row.microseconds).toBeGreaterThan(0);
      expect(row.perSecond).toBeCloseTo(1e6 / row.microseconds, 6);
    }

    const combo = report.combinatorial;
    expect(combo.combinations).toBe(COMBINATIONS);
    expect(combo.promptsPerSecond).toBeCloseTo((COMBINATIONS * 1_000) / combo.perTemplateMs, 6);

    expect(report.load.map((row) => [row.files, row.lines, row.collections])).toEqual([
      [100, 10_000, 100],
      [1, 10_000, 1],
    ]);
    for (const row of report.load) {
      expect(row.coldMs).toBeGreaterThan(0);
      expect(row.refreshMs).toBeGreaterThan(0);
    }

    const table = formatWildcards(report);
    expect(table).toContain('nested, three levels');
    expect(table).toMatch(/one file of 10,000 lines\s+[\d.]+\s+[\d.]+$/);
  });
});
