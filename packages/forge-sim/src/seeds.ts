/**
 * Seed resolution as Forge's `processing.fix_seed` and `process_images` do it.
 */

/** Exclusive upper bound of a random seed: Python's `random.randrange(4294967294)`. */
export const RANDOM_SEED_LIMIT = 4_294_967_294;

/** What a seed field may hold before resolution. */
export type SeedInput = number | string | null | undefined;

/** The resolved seeds of one generation, as `Processed.js()` reports them. */
export interface ResolvedSeeds {
  /** The first image's seed (`info.seed`). */
  readonly seed: number;
  /** The first image's variation seed (`info.subseed`). */
  readonly subseed: number;
  /** One seed per image (`info.all_seeds`). */
  readonly allSeeds: readonly number[];
  /** One variation seed per image (`info.all_subseeds`). */
  readonly allSubseeds: readonly number[];
}

/**
 * Resolves the seed and variation seed of a generation of `count` images.
 *
 * A seed of -1, `null`, `undefined`, `''` or a string that is not an integer becomes
 * `floor(random() * 4294967294)`, the seed first and then the variation seed, as Forge draws
 * them. `allSeeds[i]` is `seed + i` while the variation strength is exactly 0, and `seed` for
 * every image otherwise (Forge tests `subseed_strength == 0`, so a `null` strength also keeps
 * them equal). `allSubseeds[i]` is always `subseed + i`.
 *
 * @param random - a source of numbers in [0, 1), e.g. `Math.random`
 * @throws RangeError when `count` is not a positive integer
 * @example
 * resolveSeeds(100, -1, 0, 3, Math.random).allSeeds; // [100, 101, 102]
 */
export function resolveSeeds(
  seed: SeedInput,
  subseed: SeedInput,
  subseedStrength: number | null | undefined,
  count: number,
  random: () => number,
): ResolvedSeeds {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`resolveSeeds: count must be a positive integer, got ${String(count)}`);
  }
  const firstSeed = fixSeed(seed, random);
  const firstSubseed = fixSeed(subseed, random);
  const stepSeeds = subseedStrength === 0;

  const allSeeds = Array.from({ length: count }, (_, index) =>
    stepSeeds ? firstSeed + index : firstSeed,
  );
  const allSubseeds = Array.from({ length: count }, (_, index) => firstSubseed + index);
  return { seed: firstSeed, subseed: firstSubseed, allSeeds, allSubseeds };
}

/** Forge's `get_fixed_seed`: integers pass through, -1 and blanks become random. */
export function fixSeed(seed: SeedInput, random: () => number): number {
  const parsed = parseSeed(seed);
  if (parsed !== -1) return parsed;
  return Math.floor(random() * RANDOM_SEED_LIMIT);
}

function parseSeed(seed: SeedInput): number {
  if (seed === null || seed === undefined || seed === '') return -1;
  if (typeof seed === 'number') return Number.isFinite(seed) ? Math.trunc(seed) : -1;
  // Python's int() accepts surrounding whitespace, a sign and underscores between digits.
  const text = seed.trim();
  if (!/^[+-]?\d+(?:_\d+)*$/.test(text)) return -1;
  return Number(text.replaceAll('_', ''));
}
