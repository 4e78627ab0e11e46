import { describe, expect, it } from 'vitest';

import { Prng } from '../../src/wildcards/prng.js';

function draws(prng: Prng, count: number): number[] {
  return Array.from({ length: count }, () => prng.nextUint32());
}

describe('Prng', () => {
  it('gives the same sequence for the same seed and index', () => {
    expect(draws(new Prng(1234, 3), 50)).toEqual(draws(new Prng(1234, 3), 50));
  });

  it('gives different sequences for neighbouring seeds and indexes, and for seeds 2^32 apart', () => {
    const first = draws(new Prng(42, 0), 8).join();
    const others = [
      new Prng(43, 0),
      new Prng(42, 1),
      new Prng(41, 1),
      new Prng(42 + 2 ** 32, 0),
      new Prng(0, 42),
    ].map((prng) => draws(prng, 8).join());
    expect(new Set([first, ...others]).size).toBe(6);
  });

  it('stays in range: 32-bit integers, floats in [0, 1), below() and between()', () => {
    const prng = new Prng(7);
    for (let step = 0; step < 10_000; step += 1) {
      const value = prng.nextUint32();
      expect(Number.isInteger(value) && value >= 0 && value < 2 ** 32).toBe(true);
      const float = prng.nextFloat();
      expect(float >= 0 && float < 1).toBe(true);
      const small = prng.below(3);
      expect([0, 1, 2]).toContain(small);
      expect(prng.between(5, 6)).toBeGreaterThanOrEqual(5);
    }
  });

  it('spreads draws evenly (chi-square over 16 buckets)', () => {
    const buckets = new Array<number>(16).fill(0);
    const total = 32_000;
    const prng = new Prng(99, 5);
    for (let step = 0; step < total; step += 1) {
      const bucket = prng.below(16);
      buckets[bucket] = (buckets[bucket] ?? 0) + 1;
    }
    const expected = total / 16;
    const chiSquare = buckets.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
    // 15 degrees of freedom: 37.7 is the 0.999 quantile, so a fair generator passes.
    expect(chiSquare).toBeLessThan(37.7);
  });

  it('gives first draws that are not correlated across consecutive seeds', () => {
    let matches = 0;
    for (let seed = 0; seed < 4_000; seed += 1) {
      if (new Prng(seed).below(2) === new Prng(seed + 1).below(2)) matches += 1;
    }
    expect(matches / 4_000).toBeGreaterThan(0.45);
    expect(matches / 4_000).toBeLessThan(0.55);
  });
});
