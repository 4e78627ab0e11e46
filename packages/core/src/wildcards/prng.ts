/**
 * A small, fast seeded pseudo-random generator for wildcard choices.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's "small fast counting" generator, 128 bits of
 * state), seeded through splitmix32 from the image seed and the image index. Mixing the index in,
 * instead of adding it to the seed, keeps image 1 of seed 41 apart from image 0 of seed 42.
 * It is not a cryptographic generator; it only has to be fast, well spread and the same on
 * every machine, so that a seed gives the same prompt everywhere.
 */

const TWO_POW_32 = 4_294_967_296;

const GOLDEN_GAMMA = 0x9e3779b9;

/** The splitmix32 output function: spreads every input bit over the whole 32-bit result. */
function mix32(value: number): number {
  let mixed = value | 0;
  mixed = Math.imul(mixed ^ (mixed >>> 16), 0x21f0aaad);
  mixed = Math.imul(mixed ^ (mixed >>> 15), 0x735a2d97);
  return (mixed ^ (mixed >>> 15)) >>> 0;
}

/** A seeded generator: the same seed and index always give the same sequence. */
export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /**
   * @param seed - The image seed: a non-negative safe integer (Forge seeds are 32-bit; larger
   *   values are folded in whole, so 2^32 + 1 and 1 differ).
   * @param index - The image's index within its batch, so every image of a batch varies.
   */
  constructor(seed: number, index = 0) {
    const low = seed >>> 0;
    const high = Math.floor(seed / TWO_POW_32) >>> 0;
    const state = mix32(mix32(mix32(low + GOLDEN_GAMMA) ^ high) ^ index);
    this.#a = mix32(state + GOLDEN_GAMMA);
    this.#b = mix32(state + 2 * GOLDEN_GAMMA);
    this.#c = mix32(state + 3 * GOLDEN_GAMMA);
    this.#d = mix32(state + 4 * GOLDEN_GAMMA);
    // sfc32 needs a few rounds before its first outputs are well mixed.
    for (let round = 0; round < 12; round += 1) this.nextUint32();
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + result) | 0;
    return result >>> 0;
  }

  /** A float in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** An integer in [0, `count`); `count` must be a positive integer below 2^32. */
  below(count: number): number {
    // The bias of scaling a 32-bit draw is at most count / 2^32: invisible for option lists.
    return Math.floor((this.nextUint32() * count) / TWO_POW_32);
  }

  /** An integer in [`low`, `high`], both inclusive. */
  between(low: number, high: number): number {
    return low + this.below(high - low + 1);
  }
}
