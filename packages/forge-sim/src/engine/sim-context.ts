/**
 * Everything the simulated Forge process holds, shared by the route modules.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';

import type { ResolvedSimOptions } from '../sim-options.js';
import { FaultInjector } from './faults.js';
import { FifoLock } from './fifo-lock.js';
import { ModelRegistry } from './model-registry.js';
import { OptionsStore } from './options-store.js';
import { SharedState } from './shared-state.js';
import { TaskRegistry } from './task-registry.js';

/** Counters that tests and benchmarks read through `ForgeSim.stats()`. */
export interface SimStats {
  /** HTTP requests received (every route, including the simulator's own). */
  requests: number;
  /** txt2img/img2img requests that returned images (interrupted ones included). */
  generations: number;
  /** Generations that were interrupted. */
  interrupted: number;
  /** Batches cut short by `/sdapi/v1/skip`. */
  skipped: number;
  /** Generation and extras requests that ended in an error (injected or not). */
  failed: number;
  /** Generic failures injected. */
  injectedFailures: number;
  /** CUDA out-of-memory failures (injected or caused by an oversized request). */
  outOfMemory: number;
  /** Connections destroyed on purpose. */
  dropped: number;
  /** Requests that stalled for `hangMs`. */
  hung: number;
  /** Checkpoint loads (including reloads after `unload-checkpoint`). */
  modelLoads: number;
  /** Images returned by generation and extras requests. */
  imagesReturned: number;
}

/** A fresh set of zeroed counters. */
export function emptyStats(): SimStats {
  return {
    requests: 0,
    generations: 0,
    interrupted: 0,
    skipped: 0,
    failed: 0,
    injectedFailures: 0,
    outOfMemory: 0,
    dropped: 0,
    hung: 0,
    modelLoads: 0,
    imagesReturned: 0,
  };
}

/** The simulated process. */
export class SimContext {
  readonly settings: ResolvedSimOptions;
  readonly options: OptionsStore;
  readonly models: ModelRegistry;
  readonly state: SharedState;
  readonly tasks: TaskRegistry;
  readonly lock = new FifoLock();
  readonly faults: FaultInjector;
  readonly startedAtMs: number;
  stats: SimStats = emptyStats();
  readonly #closing = new AbortController();
  #workStartMs = performance.now();
  #workBudgetMs = 0;

  constructor(settings: ResolvedSimOptions) {
    this.settings = settings;
    this.startedAtMs = Date.now();
    const overrides =
      settings.previewEveryNSteps !== 0
        ? { show_progress_every_n_steps: settings.previewEveryNSteps }
        : {};
    this.options = new OptionsStore(overrides, () => this.models);
    this.models = new ModelRegistry((key) => this.options.get(key));
    this.state = new SharedState(Date.now, () => ({
      enabled: Boolean(this.options.get('live_previews_enable')),
      everyNSteps: Number(this.options.get('show_progress_every_n_steps')),
      format: String(this.options.get('live_previews_image_format') ?? 'png'),
    }));
    this.tasks = new TaskRegistry(settings.random);
    this.faults = new FaultInjector(settings.faults, settings.random);
  }

  /** Aborted when the server closes, so every simulated wait ends at once. */
  get closingSignal(): AbortSignal {
    return this.#closing.signal;
  }

  /** Ends every pending wait (used by `close()`). */
  abortWaits(): void {
    this.#closing.abort();
  }

  /**
   * Starts the work clock of an operation that holds the lock: the times later passed to
   * {@link SimContext.wait} are budgets counted from this moment.
   */
  startWorkClock(): void {
    this.#workStartMs = performance.now();
    this.#workBudgetMs = 0;
  }

  /**
   * Works `ms` more milliseconds of simulated work. The configured times are budgets measured
   * from {@link SimContext.startWorkClock}: each call adds `ms` to the budget and sleeps only
   * until the budget is spent, so the simulator's own work between waits (rendering and encoding
   * images, bookkeeping) happens inside the configured time instead of on top of it, as a real
   * GPU's step and decode times include its own overhead. When the budget is already spent it
   * only yields to the event loop, so progress, interrupt and skip requests are still served
   * between steps; a positive `ms` then restarts the clock, so work beyond a wait's own time is
   * not carried to later waits, which would otherwise run in a burst that progress requests
   * cannot observe.
   *
   * @throws the abort reason when the server closes meanwhile
   */
  async wait(ms: number): Promise<void> {
    this.#workBudgetMs += Math.max(ms, 0);
    const endMs = this.#workStartMs + this.#workBudgetMs;
    if (endMs <= performance.now()) {
      if (ms > 0) this.startWorkClock();
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.#closing.signal.throwIfAborted();
      return;
    }
    // Timers count whole milliseconds of a cached loop time and may fire a little early.
    for (let leftMs = endMs - performance.now(); leftMs > 0; leftMs = endMs - performance.now())
      await sleepFor(Math.ceil(leftMs), undefined, { signal: this.#closing.signal });
  }

  /**
   * Sleeps the full `ms` whatever the work clock says: a stuck server (hang fault, slow start)
   * does no work to absorb. The work clock is left alone, so callers that hold the lock restart
   * it afterwards.
   *
   * @throws the abort reason when the server closes meanwhile
   */
  async stall(ms: number): Promise<void> {
    if (ms <= 0) return;
    await sleepFor(ms, undefined, { signal: this.#closing.signal });
  }

  /** Writes a log line through the configured logger. */
  log(line: string): void {
    this.settings.logger(line);
  }
}
