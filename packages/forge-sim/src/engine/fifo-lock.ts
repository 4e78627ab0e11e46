/**
 * Forge's process-wide `queue_lock` (`modules/fifo_lock.py`): one holder at a time, waiters
 * served strictly in arrival order.
 */

/** Gives the lock back; calling it more than once has no further effect. */
export type ReleaseLock = () => void;

/** A first-in, first-out mutual exclusion lock for async work. */
export class FifoLock {
  #held = false;
  readonly #waiters: Array<() => void> = [];

  /** Whether some caller holds the lock right now. */
  get isHeld(): boolean {
    return this.#held;
  }

  /** How many callers are waiting for the lock. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Waits until every earlier caller has released the lock, then takes it.
   *
   * @example
   * const release = await lock.acquire();
   * try { await work(); } finally { release(); }
   */
  acquire(): Promise<ReleaseLock> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve) => {
      this.#waiters.push(() => resolve(this.#releaser()));
    });
  }

  /** Runs `work` while holding the lock and releases it however `work` ends. */
  async run<Result>(work: () => Promise<Result>): Promise<Result> {
    const release = await this.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }

  #releaser(): ReleaseLock {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#handOver();
    };
  }

  #handOver(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#held = false;
  }
}
