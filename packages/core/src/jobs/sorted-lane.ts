/**
 * One owner's queued jobs that share the same backend requirements, kept in `sequence` order.
 *
 * A sorted array with a moving head: jobs almost always arrive with a higher sequence than any
 * queued one (an append), and leave from the head, so both are O(1); a retried job goes back to
 * its place by binary search. Rank queries (how many of this lane's jobs come first) are
 * O(log n), which keeps queue positions cheap with 100,000 queued jobs.
 *
 * ```
 *   items: [ x  x  x | a  b  c  d ]      x = already taken, compacted away from time to time
 *                     ^ head
 * ```
 *
 * @internal
 */

/** The least a lane stores per job. */
export interface Sequenced {
  readonly sequence: number;
}

/** Taken slots tolerated before the array is compacted. */
const COMPACT_AFTER = 1_024;

/** @internal */
export class SortedLane<Item extends Sequenced> {
  #items: Item[] = [];
  #head = 0;

  /** Jobs in the lane. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** The job with the lowest sequence. */
  peek(): Item | undefined {
    return this.#items[this.#head];
  }

  /** Adds a job at its place by sequence. */
  insert(item: Item): void {
    const last = this.#items[this.#items.length - 1];
    if (this.size === 0 || (last !== undefined && last.sequence < item.sequence)) {
      this.#items.push(item);
      return;
    }
    this.#items.splice(this.#lowerBound(item.sequence), 0, item);
  }

  /** Removes and returns the job with the lowest sequence. */
  shift(): Item | undefined {
    const item = this.#items[this.#head];
    if (item === undefined) return undefined;
    this.#head += 1;
    this.#compact();
    return item;
  }

  /** Removes this exact job; false when it is not in the lane. */
  remove(item: Item): boolean {
    const index = this.#lowerBound(item.sequence);
    if (this.#items[index] !== item) return false;
    if (index === this.#head) {
      this.shift();
      return true;
    }
    this.#items.splice(index, 1);
    return true;
  }

  /** How many jobs of the lane have a lower sequence than `sequence`. */
  rank(sequence: number): number {
    return this.#lowerBound(sequence) - this.#head;
  }

  /** The job at `offset` from the head (0 = the head). */
  at(offset: number): Item | undefined {
    return this.#items[this.#head + offset];
  }

  #lowerBound(sequence: number): number {
    let low = this.#head;
    let high = this.#items.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const item = this.#items[middle];
      if (item !== undefined && item.sequence < sequence) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  #compact(): void {
    if (this.size === 0) {
      this.#items = [];
      this.#head = 0;
      return;
    }
    if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
