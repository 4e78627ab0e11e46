/**
 * Picks which queued job each backend runs next: one per free backend, plus (engine option
 * `prefetch`) one sent ahead to each busy backend, and hands a backend over to the job sent ahead
 * when its active attempt ends. Internal to the engine.
 */
import type { BackendPool, BackendRunReport } from './backend-pool.js';
import type { FairQueue } from './fair-queue.js';
import type { JobError } from './job.js';
import type { EngineQueueEntry, QueueEntries } from './queue-entries.js';
import type { RunningAttempt } from './running-attempt.js';

/** A job sent ahead to a busy backend (engine option `prefetch`), waiting behind its active one. */
export interface AheadSlot {
  readonly jobId: string;
  /** Its attempt, once its job is marked running. */
  attempt: RunningAttempt | undefined;
  /** Whether it became its backend's active attempt. */
  promoted: boolean;
  /** Why its backend went down before its attempt existed: it is given up when it does. */
  abandoned: JobError | null;
}

/** Where an attempt stands on its backend. */
export interface AttemptLane {
  /** Its slot when it was sent ahead. */
  readonly slot: AheadSlot | undefined;
  /** Settles once the attempt ahead of it sent its request. */
  readonly after: Promise<void>;
  /** Called once its own request is about to be sent (or it ends without one). */
  readonly signalSent: () => void;
}

/** Starts an attempt of a picked job; `slot` and `after` are set for a job sent ahead. */
export type StartAttempt = (
  entry: EngineQueueEntry,
  backend: string,
  slot?: AheadSlot,
  after?: Promise<void>,
) => void;

/** What the dispatcher works with, all owned by the engine. */
export interface JobDispatcherParts {
  readonly pool: BackendPool;
  readonly queue: FairQueue<EngineQueueEntry>;
  readonly entries: QueueEntries;
  /** Whether to send a job ahead to busy backends. */
  readonly prefetch: boolean;
  /** Called for each job picked, after its backend was acquired (free backends only). */
  readonly start: StartAttempt;
  /** Settles once the given started job's request went out to Forge, if it is still pending. */
  readonly sentOf: (jobId: string) => Promise<void> | undefined;
}

/** The engine's dispatch and prefetch logic; it keeps the jobs sent ahead, one per backend. */
export class JobDispatcher {
  readonly #parts: JobDispatcherParts;
  /** Per backend, the job sent ahead to it. */
  readonly #ahead = new Map<string, AheadSlot>();

  constructor(parts: JobDispatcherParts) {
    this.#parts = parts;
  }

  /** Gives every free backend the job the fair queue picks for it, then fills the ahead slots. */
  dispatch(): void {
    const { pool, queue, entries } = this.#parts;
    const free = pool.freeBackends();
    const honourAvoid = pool.upCount() > 1;
    const stillFree = new Set(free.map((backend) => backend.name));
    for (const backend of free) {
      stillFree.delete(backend.name);
      // A checkpoint another free backend has loaded is better run there.
      const loadedElsewhere = new Set(
        free
          .filter((other) => stillFree.has(other.name) && other.loadedCheckpoint !== null)
          .map((other) => other.loadedCheckpoint as string),
      );
      const entry = queue.pick({
        ...backend,
        loadedElsewhere,
        honourAvoid,
        canRun: (candidate) => entries.canRun(candidate, pool.capabilitiesOf(backend.name)),
      });
      if (entry === undefined) {
        stillFree.add(backend.name);
        continue;
      }
      pool.acquire(backend.name, entry.id);
      this.#parts.start(entry, backend.name);
    }
    if (this.#parts.prefetch) this.#dispatchAhead();
  }

  /** Sends one job ahead to each busy backend that has none waiting yet. */
  #dispatchAhead(): void {
    const { pool, queue, entries } = this.#parts;
    const honourAvoid = pool.upCount() > 1;
    for (const backend of pool.list()) {
      if (queue.size === 0) return;
      const { name, status, runningJob } = backend;
      if (status !== 'up' || runningJob === null || this.#ahead.has(name)) continue;
      const entry = queue.pick({
        ...backend,
        loadedElsewhere: new Set<string>(),
        honourAvoid,
        canRun: (candidate) => entries.canRun(candidate, pool.capabilitiesOf(name)),
      });
      if (entry === undefined) continue;
      const slot: AheadSlot = {
        jobId: entry.id,
        attempt: undefined,
        promoted: false,
        abandoned: null,
      };
      this.#ahead.set(name, slot);
      // Its request must reach Forge's queue after the one it waits behind.
      const after = this.#parts.sentOf(runningJob) ?? Promise.resolve();
      this.#parts.start(entry, name, slot, after);
    }
  }

  /**
   * An attempt's Forge call ended. The active one frees its backend, or hands it to the job sent
   * ahead, which becomes active (returned). One that never became active leaves the backend to
   * the attempt it waited behind.
   */
  released(
    backend: string,
    slot: AheadSlot | undefined,
    report: BackendRunReport,
  ): AheadSlot | undefined {
    if (slot !== undefined && !slot.promoted) {
      if (this.#ahead.get(backend) === slot) this.#ahead.delete(backend);
      return undefined;
    }
    const next = this.#ahead.get(backend);
    if (next === undefined) {
      this.#parts.pool.release(backend, report);
      return undefined;
    }
    this.#ahead.delete(backend);
    next.promoted = true;
    next.attempt?.activate(Date.now());
    this.#parts.pool.release(backend, report, next.jobId);
    return next;
  }

  /** The attempt that took the backend down leaves no job waiting there: it goes back to the queue. */
  abandonIfDown(backend: string, promoted: AheadSlot): void {
    const view = this.#parts.pool.get(backend);
    if (view?.status !== 'down') return;
    const error = view.lastError ?? {
      code: 'FT_ERR_FORGE_UNREACHABLE',
      message: `Backend "${backend}" went down`,
    };
    if (promoted.attempt === undefined) promoted.abandoned = error;
    else promoted.attempt.abandon(error);
  }
}
