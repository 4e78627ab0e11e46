/**
 * One attempt of one job on one backend while it runs: what the engine needs to stop it, and the
 * latest progress and preview it reported.
 */
import type { ForgeClient } from '../forge/forge-client.js';
import type { EngineQueueEntry } from './queue-entries.js';
import type { JobRecord } from './job.js';

/** Why an attempt was stopped from outside. */
export type StopReason = 'cancel' | 'timeout' | 'shutdown';

/** How often Forge is told again to interrupt until the generation call ends. */
const INTERRUPT_REPEAT_MS = 250;

/**
 * A running attempt. Stopping it interrupts the generation on Forge (which then answers with the
 * partly done images, which are thrown away) and, should Forge not answer within the grace
 * period, aborts the HTTP call so the backend is not held forever.
 *
 * Forge forgets an interrupt that arrives before the generation began (it resets the flag when a
 * job starts), so the interrupt is repeated until the call ends.
 */
export class RunningAttempt {
  /** The backend it runs on. */
  readonly backend: string;
  /** The queue entry it was picked from (kept to put the job back in the queue). */
  readonly entry: EngineQueueEntry;
  /** When it started (ms since the epoch). */
  readonly startedAt: number;
  /** The job as last stored, with its latest progress. */
  job: JobRecord;
  /** The latest live preview, PNG bytes. */
  preview: Buffer | null = null;
  readonly #client: Pick<ForgeClient, 'interrupt'>;
  readonly #controller = new AbortController();
  #stopReason: StopReason | null = null;
  #interruptTimer: NodeJS.Timeout | undefined;
  #abortTimer: NodeJS.Timeout | undefined;
  #forgeDone = false;

  constructor(
    job: JobRecord,
    entry: EngineQueueEntry,
    backend: string,
    client: Pick<ForgeClient, 'interrupt'>,
    startedAt: number,
  ) {
    this.job = job;
    this.entry = entry;
    this.backend = backend;
    this.#client = client;
    this.startedAt = startedAt;
  }

  /** The attempt's number (its job's `attempts` after `markRunning`). */
  get attempt(): number {
    return this.job.attempts;
  }

  /** Why it was stopped, or null while nobody stopped it. */
  get stopReason(): StopReason | null {
    return this.#stopReason;
  }

  /** Aborts the attempt's HTTP calls. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Stops the attempt: interrupts the generation now and then repeatedly, and aborts the HTTP
   * call after `graceMs`. Only the first call counts; it returns true, later calls false.
   */
  stop(reason: StopReason, graceMs: number): boolean {
    if (this.#stopReason !== null) return false;
    this.#stopReason = reason;
    // Once Forge has answered, the backend may already run the next job: leave it alone.
    if (this.#forgeDone) return true;
    this.#interrupt();
    this.#abortTimer = setTimeout(() => this.#controller.abort(reason), graceMs);
    this.#abortTimer.unref();
    return true;
  }

  /** Marks the Forge call as over: from now on a stop only records its reason. */
  dispose(): void {
    this.#forgeDone = true;
    clearTimeout(this.#interruptTimer);
    clearTimeout(this.#abortTimer);
  }

  #interrupt(): void {
    if (this.#controller.signal.aborted || this.#forgeDone) return;
    this.#client.interrupt({ timeoutMs: 5_000 }).catch(() => undefined);
    this.#interruptTimer = setTimeout(() => this.#interrupt(), INTERRUPT_REPEAT_MS);
    this.#interruptTimer.unref();
  }
}
