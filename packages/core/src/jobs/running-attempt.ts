/**
 * One attempt of one job on one backend while it runs: what the engine needs to stop it, and the
 * latest progress and preview it reported.
 */
import type { ForgeClient } from '../forge/forge-client.js';
import type { EngineQueueEntry } from './queue-entries.js';
import type { JobError, JobRecord } from './job.js';

/**
 * Why an attempt was stopped from outside. `backend-down`: the attempt was sent ahead to a
 * backend whose active attempt then took it down, so it goes back to the queue.
 */
export type StopReason = 'cancel' | 'timeout' | 'shutdown' | 'backend-down';

/** How an attempt sent ahead (engine option `prefetch`) waits behind the backend's active one. */
export interface AttemptLaneOptions {
  /**
   * Whether the attempt waits behind another on its backend; it becomes active on
   * {@link RunningAttempt.activate}. @defaultValue `false`
   */
  readonly waiting?: boolean;
  /** Settles once the attempt ahead of it sent its request; its own request goes after. */
  readonly after?: Promise<void>;
  /** Called once its own request is about to be sent. */
  readonly onSent?: () => void;
}

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
  /** Settles once the attempt ahead of it on its backend sent its request. */
  readonly after: Promise<void>;
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
  #startedAt: number;
  #active: boolean;
  #onActive: (() => void)[] = [];
  #backendError: JobError | null = null;
  readonly #onSent: () => void;

  constructor(
    job: JobRecord,
    entry: EngineQueueEntry,
    backend: string,
    client: Pick<ForgeClient, 'interrupt'>,
    startedAt: number,
    lane: AttemptLaneOptions = {},
  ) {
    this.job = job;
    this.entry = entry;
    this.backend = backend;
    this.#client = client;
    this.#startedAt = startedAt;
    this.#active = lane.waiting !== true;
    this.after = lane.after ?? Promise.resolve();
    this.#onSent = lane.onSent ?? (() => undefined);
  }

  /** When it became the backend's active attempt (ms since the epoch); its time limit counts from here. */
  get startedAt(): number {
    return this.#startedAt;
  }

  /** Whether it is its backend's active attempt (the one Forge runs now or runs next). */
  get active(): boolean {
    return this.#active;
  }

  /** The failure that took its backend down while it waited, for `backend-down`. */
  get backendError(): JobError | null {
    return this.#backendError;
  }

  /** Runs `callback` once the attempt is active: now, or on {@link activate}. */
  whenActive(callback: () => void): void {
    if (this.#active) callback();
    else this.#onActive.push(callback);
  }

  /** Makes a waiting attempt the active one, from `now` on. */
  activate(now: number): void {
    if (this.#active) return;
    this.#active = true;
    this.#startedAt = now;
    for (const callback of this.#onActive.splice(0)) callback();
  }

  /** Tells the engine its request is about to go out, so the next one may follow it. */
  sent(): void {
    this.#onSent();
  }

  /** Stops an attempt whose backend went down (see {@link StopReason}); aborts its call at once. */
  abandon(error: JobError): boolean {
    if (this.#stopReason !== null) return false;
    this.#backendError = error;
    this.#stopReason = 'backend-down';
    this.#controller.abort('backend-down');
    return true;
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
   * call after `graceMs`. An attempt still waiting behind the active one is not interrupted (that
   * would stop the active one); its call is aborted at once. Only the first call counts; it
   * returns true, later calls false.
   */
  stop(reason: StopReason, graceMs: number): boolean {
    if (this.#stopReason !== null) return false;
    this.#stopReason = reason;
    // Once Forge has answered, the backend may already run the next job: leave it alone.
    if (this.#forgeDone) return true;
    // Forge runs the active attempt: an interrupt now would stop that one, not this.
    if (!this.#active) {
      this.#controller.abort(reason);
      return true;
    }
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
