/**
 * Fault injection: the failures a real Forge shows under load or on a bad day, on demand.
 */
import { PythonException } from '../http/errors.js';
import type { DropMode } from '../http/response.js';
import { DEFAULT_SIM_FAULTS, mergeFaults, type SimFaults } from '../sim-options.js';

/** The faults one generation request will suffer, drawn when it arrives. */
export interface FaultPlan {
  /** Fail part-way through sampling with this exception, or not at all. */
  readonly failure: 'generic' | 'oom' | null;
  /** Break the connection instead of answering, or answer normally. */
  readonly drop: DropMode | null;
  /** Stall this long after taking the lock. */
  readonly hangMs: number;
}

/** The current fault settings and the dice. */
export class FaultInjector {
  #faults: SimFaults;
  readonly #initial: SimFaults;
  readonly #random: () => number;

  constructor(initial: SimFaults, random: () => number) {
    this.#initial = { ...initial };
    this.#faults = { ...initial };
    this.#random = random;
  }

  /** The active settings. */
  get current(): SimFaults {
    return { ...this.#faults };
  }

  /**
   * Changes some settings.
   *
   * @throws SimOptionsError for an unknown key or a value out of range
   */
  update(partial: unknown): SimFaults {
    this.#faults = mergeFaults(this.#faults, partial);
    return this.current;
  }

  /** Back to the settings the simulator started with. */
  reset(): void {
    this.#faults = { ...this.#initial };
  }

  /** Turns every fault off. */
  clear(): void {
    this.#faults = { ...DEFAULT_SIM_FAULTS };
  }

  /** Draws the faults of one generation request. */
  plan(): FaultPlan {
    const { failureRate, oomRate, dropRate, hangMs } = this.#faults;
    const failure = this.#roll(failureRate) ? 'generic' : this.#roll(oomRate) ? 'oom' : null;
    const drop = this.#roll(dropRate)
      ? this.#random() < 0.5
        ? 'before-headers'
        : 'mid-body'
      : null;
    return { failure, drop, hangMs };
  }

  /** Milliseconds a request arriving `sinceStartMs` after start still has to wait. */
  slowStartWaitMs(sinceStartMs: number): number {
    return Math.max(0, this.#faults.slowStartMs - sinceStartMs);
  }

  #roll(rate: number): boolean {
    return rate > 0 && this.#random() < rate;
  }
}

/** The exception of an injected generic failure. */
export function injectedFailure(): PythonException {
  return new PythonException(
    'RuntimeError',
    'Sampling failed: injected failure (forge-sim failureRate)',
  );
}

/**
 * PyTorch's CUDA out-of-memory error, with the message PyTorch 2.3 prints on a 24 GiB card,
 * sized for the image being made.
 */
export function cudaOutOfMemory(pixels: number): PythonException {
  const triedGiB = Math.max(0.02, (pixels * 4 * 64) / 1024 ** 3);
  const message =
    `CUDA out of memory. Tried to allocate ${triedGiB.toFixed(2)} GiB. ` +
    'GPU 0 has a total capacity of 23.99 GiB of which 1.17 GiB is free. ' +
    'Of the allocated memory 20.31 GiB is allocated by PyTorch, and 1.43 GiB is reserved by ' +
    'PyTorch but unallocated. If reserved but unallocated memory is large try setting ' +
    'PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation ' +
    'for Memory Management  (https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)';
  return new PythonException('OutOfMemoryError', message);
}
