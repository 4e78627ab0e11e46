import { describe, expect, it } from 'vitest';

import { RANDOM_SEED_LIMIT, fixSeed, resolveSeeds } from '../src/seeds.js';

/** A random source that replays fixed values and counts its calls. */
function replay(...values: number[]): { random: () => number; calls: () => number } {
  let index = 0;
  return {
    random: () => values[index++] ?? 0,
    calls: () => index,
  };
}

describe('resolveSeeds', () => {
  it('steps seeds and subseeds per image when the variation strength is 0', () => {
    const resolved = resolveSeeds(100, 7, 0, 3, replay().random);
    expect(resolved).toEqual({
      seed: 100,
      subseed: 7,
      allSeeds: [100, 101, 102],
      allSubseeds: [7, 8, 9],
    });
  });

  it('keeps every seed equal when the variation strength is not 0', () => {
    const resolved = resolveSeeds(100, 7, 0.3, 3, replay().random);
    expect(resolved.allSeeds).toEqual([100, 100, 100]);
    expect(resolved.allSubseeds).toEqual([7, 8, 9]);
  });

  it('keeps seeds equal for a null strength, as Python compares None == 0 as false', () => {
    expect(resolveSeeds(5, 1, null, 2, replay().random).allSeeds).toEqual([5, 5]);
  });

  it('draws the seed first and then the subseed from the random source', () => {
    const source = replay(0.5, 0.25);
    const resolved = resolveSeeds(-1, -1, 0, 2, source.random);
    expect(resolved.seed).toBe(Math.floor(0.5 * RANDOM_SEED_LIMIT));
    expect(resolved.subseed).toBe(Math.floor(0.25 * RANDOM_SEED_LIMIT));
    expect(source.calls()).toBe(2);
  });

  it.each([[-1], [null], [undefined], [''], ['not a number']])(
    'treats %j as a random seed',
    (seed) => {
      const source = replay(0.999_999_999_9);
      expect(fixSeed(seed, source.random)).toBe(4_294_967_293);
      expect(source.calls()).toBe(1);
    },
  );

  it('parses integer strings the way Python int() does', () => {
    const source = replay();
    expect(fixSeed(' 42 ', source.random)).toBe(42);
    expect(fixSeed('1_000', source.random)).toBe(1000);
    expect(source.calls()).toBe(0);
  });

  it('never draws the limit itself', () => {
    expect(fixSeed(-1, () => 0.999_999_999_999_999_9)).toBeLessThan(RANDOM_SEED_LIMIT);
  });

  it('rejects a count that is not a positive integer', () => {
    expect(() => resolveSeeds(1, 1, 0, 0, Math.random)).toThrow(/count must be a positive integer/);
    expect(() => resolveSeeds(1, 1, 0, 1.5, Math.random)).toThrow(RangeError);
  });
});
