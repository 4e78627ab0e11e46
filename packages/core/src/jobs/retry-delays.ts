/**
 * Jobs waiting out a retry delay before they re-enter the queue: after a backend failure, or
 * when the store could not mark them running. Internal to the engine.
 */
import type { EngineQueueEntry } from './queue-entries.js';

/** A job waiting out its retry delay before it re-enters the queue. */
export interface DelayedRetry {
  readonly entry: EngineQueueEntry;
  readonly timer: NodeJS.Timeout;
  readonly dueAt: number;
}

/** The engine's delayed retries, one timer per job; timers never keep the process alive. */
export class RetryDelays {
  readonly #delayed = new Map<string, DelayedRetry>();
  readonly #onDue: (entry: EngineQueueEntry) => void;

  /** @param onDue called with a job's entry once its delay is over (it is no longer held here) */
  constructor(onDue: (entry: EngineQueueEntry) => void) {
    this.#onDue = onDue;
  }

  /** How many jobs are waiting out a delay. */
  get size(): number {
    return this.#delayed.size;
  }

  /** The delayed retry of a job, if it has one. */
  get(id: string): DelayedRetry | undefined {
    return this.#delayed.get(id);
  }

  /** Holds a job back for `delayMs` before handing it to `onDue`. */
  schedule(entry: EngineQueueEntry, delayMs: number): void {
    const timer = setTimeout(() => {
      this.#delayed.delete(entry.id);
      this.#onDue(entry);
    }, delayMs);
    timer.unref();
    this.#delayed.set(entry.id, { entry, timer, dueAt: Date.now() + delayMs });
  }

  /**
   * Removes a job's delayed retry without running it.
   * @returns its entry, or `undefined` when the job was not waiting
   */
  take(id: string): EngineQueueEntry | undefined {
    const delayed = this.#delayed.get(id);
    if (delayed === undefined) return undefined;
    clearTimeout(delayed.timer);
    this.#delayed.delete(id);
    return delayed.entry;
  }

  /** Drops every delayed retry without running it (on shutdown). */
  clear(): void {
    for (const delayed of this.#delayed.values()) clearTimeout(delayed.timer);
    this.#delayed.clear();
  }
}
