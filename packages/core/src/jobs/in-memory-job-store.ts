/**
 * A {@link JobStore} in a Map, with the same semantics as the SQLite store (the shared contract
 * tests run against both). For unit tests of the parts above the store, and for runs that need
 * no persistence; nothing survives the process.
 */
import { ForgeToolError } from '../errors.js';
import type {
  InsertOutcome,
  JobListQuery,
  JobPage,
  JobStore,
  NewJob,
  RecoveryOutcome,
} from './job-store.js';
import {
  checkListQuery,
  emptyStatusCounts,
  hasAttemptsLeft,
  interruptedError,
  jobNotFound,
  notCancellable,
  transitionConflict,
  withImagesRemoved,
  type TransitionGuard,
} from './job-store-rules.js';
import type { JobError, JobOwner, JobProgress, JobRecord, JobResult, JobStatus } from './job.js';

/** Options of an {@link InMemoryJobStore}. */
export interface InMemoryJobStoreOptions {
  /**
   * The clock for timestamps, in ms since the epoch.
   * @defaultValue `Date.now`
   */
  now?: () => number;
}

type Mutable<Value> = { -readonly [Key in keyof Value]: Value[Key] };

/** The in-memory {@link JobStore}. Records are copied in and out, as a database would. */
export class InMemoryJobStore implements JobStore {
  readonly #now: () => number;
  readonly #jobs = new Map<string, JobRecord>();
  readonly #idempotency = new Map<string, string>();
  #sequence = 0;
  #closed = false;

  constructor(options: InMemoryJobStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  async insert(job: NewJob): Promise<InsertOutcome> {
    this.#ensureOpen('insert a job');
    const key = idempotencyKeyOf(job);
    const earlierId = key === undefined ? undefined : this.#idempotency.get(key);
    if (earlierId !== undefined) return { job: this.#copyOf(earlierId), created: false };
    if (this.#jobs.has(job.id)) {
      throw new ForgeToolError('FT_ERR_STORE_FAILURE', `Could not insert a job: ${job.id} exists`);
    }
    this.#jobs.set(job.id, newRecord(job, (this.#sequence += 1), this.#now()));
    if (key !== undefined) this.#idempotency.set(key, job.id);
    return { job: this.#copyOf(job.id), created: true };
  }

  async get(id: string): Promise<JobRecord | undefined> {
    this.#ensureOpen('read a job');
    return this.#jobs.has(id) ? this.#copyOf(id) : undefined;
  }

  async findByIdempotencyKey(owner: JobOwner, key: string): Promise<JobRecord | undefined> {
    this.#ensureOpen('read a job');
    const id = this.#idempotency.get(JSON.stringify([owner.source, owner.id, key]));
    return id === undefined ? undefined : this.#copyOf(id);
  }

  async list(query: JobListQuery): Promise<JobPage> {
    checkListQuery(query);
    this.#ensureOpen('list jobs');
    const beforeSequence = this.#sequenceBefore(query.before);
    const matches = [...this.#jobs.values()]
      .filter((job) => job.sequence < beforeSequence && matchesQuery(job, query))
      .sort((a, b) => b.sequence - a.sequence);
    const jobs = matches.slice(0, query.limit).map((job) => clone(job));
    const nextBefore = matches.length > query.limit ? (jobs.at(-1)?.id ?? null) : null;
    return { jobs, nextBefore };
  }

  async listQueued(): Promise<JobRecord[]> {
    this.#ensureOpen('list queued jobs');
    return this.#withStatus('queued').map((job) => clone(job));
  }

  async countByStatus(): Promise<Record<JobStatus, number>> {
    this.#ensureOpen('count jobs');
    const counts = emptyStatusCounts();
    for (const job of this.#jobs.values()) counts[job.status] += 1;
    return counts;
  }

  async markRunning(id: string, backend: string): Promise<JobRecord> {
    return this.#transition('start', id, { from: ['queued'] }, (job, now) => ({
      status: 'running',
      attempts: job.attempts + 1,
      backend,
      progress: null,
      startedAt: now,
    }));
  }

  async updateProgress(id: string, attempt: number, progress: JobProgress): Promise<void> {
    this.#ensureOpen('record progress');
    const job = this.#jobs.get(id);
    // A miss means the attempt is over: progress that arrives late is dropped on purpose.
    if (job === undefined || !fitsGuard(job, running(attempt))) return;
    this.#jobs.set(id, { ...job, progress: clone(progress), updatedAt: this.#now() });
  }

  async complete(id: string, attempt: number, result: JobResult): Promise<JobRecord> {
    return this.#transition('complete', id, running(attempt), (_job, now) => ({
      status: 'completed',
      result: clone(result),
      error: null,
      finishedAt: now,
    }));
  }

  async fail(id: string, attempt: number, error: JobError): Promise<JobRecord> {
    return this.#transition('fail', id, running(attempt), (_job, now) => ({
      status: 'failed',
      error: clone(error),
      finishedAt: now,
    }));
  }

  async requeue(id: string, attempt: number, error: JobError): Promise<JobRecord> {
    return this.#transition('requeue', id, running(attempt), () => ({
      status: 'queued',
      error: clone(error),
      progress: null,
    }));
  }

  async cancel(id: string, reason: JobError): Promise<JobRecord> {
    this.#ensureOpen('cancel a job');
    const job = this.#jobs.get(id);
    if (job === undefined) throw jobNotFound(id);
    if (!fitsGuard(job, { from: ['queued', 'running'] })) throw notCancellable(job);
    return this.#apply(job, (_job, now) => ({
      status: 'cancelled',
      error: clone(reason),
      finishedAt: now,
    }));
  }

  async markImagesRemoved(
    id: string,
    indexes: readonly number[],
    removedAt: number,
  ): Promise<void> {
    this.#ensureOpen('mark images removed');
    const job = this.#jobs.get(id);
    if (job === undefined) throw jobNotFound(id);
    if (job.status !== 'completed' || job.result === null) {
      throw transitionConflict('mark images removed of', { from: ['completed'] }, job);
    }
    const result = withImagesRemoved(job.result, indexes, removedAt);
    this.#apply(job, () => ({ result }));
  }

  async recoverInterrupted(): Promise<RecoveryOutcome> {
    this.#ensureOpen('recover interrupted jobs');
    const requeued: JobRecord[] = [];
    const failed: JobRecord[] = [];
    for (const job of this.#withStatus('running')) {
      const error = interruptedError(job);
      if (hasAttemptsLeft(job)) {
        requeued.push(this.#apply(job, () => ({ status: 'queued', error, progress: null })));
      } else {
        failed.push(
          this.#apply(job, (_job, now) => ({ status: 'failed', error, finishedAt: now })),
        );
      }
    }
    return { requeued, failed };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #transition(
    action: string,
    id: string,
    guard: TransitionGuard,
    change: (job: JobRecord, now: number) => Partial<Mutable<JobRecord>>,
  ): JobRecord {
    this.#ensureOpen(`${action} a job`);
    const job = this.#jobs.get(id);
    if (job === undefined) throw jobNotFound(id);
    if (!fitsGuard(job, guard)) throw transitionConflict(action, guard, job);
    return this.#apply(job, change);
  }

  /** Stores the changed record and returns a copy of it. */
  #apply(
    job: JobRecord,
    change: (job: JobRecord, now: number) => Partial<Mutable<JobRecord>>,
  ): JobRecord {
    const now = this.#now();
    const updated: JobRecord = { ...job, ...change(job, now), updatedAt: now };
    this.#jobs.set(job.id, updated);
    return clone(updated);
  }

  #withStatus(status: JobStatus): JobRecord[] {
    return [...this.#jobs.values()]
      .filter((job) => job.status === status)
      .sort((a, b) => a.sequence - b.sequence);
  }

  #sequenceBefore(before: string | undefined): number {
    if (before === undefined) return Number.POSITIVE_INFINITY;
    return this.#jobs.get(before)?.sequence ?? Number.NEGATIVE_INFINITY;
  }

  #copyOf(id: string): JobRecord {
    const job = this.#jobs.get(id);
    if (job === undefined) throw jobNotFound(id);
    return clone(job);
  }

  #ensureOpen(action: string): void {
    if (!this.#closed) return;
    throw new ForgeToolError('FT_ERR_STORE_FAILURE', `Cannot ${action}: the job store is closed`);
  }
}

function newRecord(job: NewJob, sequence: number, now: number): JobRecord {
  return {
    id: job.id,
    kind: job.kind,
    status: 'queued',
    priority: job.priority,
    owner: { id: job.owner.id, source: job.owner.source },
    request: clone(job.request),
    resolved: clone(job.resolved),
    idempotencyKey: job.idempotencyKey,
    attempts: 0,
    maxAttempts: job.maxAttempts,
    backend: null,
    progress: null,
    result: null,
    error: null,
    sequence,
    createdAt: now,
    startedAt: null,
    finishedAt: null,
    updatedAt: now,
  };
}

function idempotencyKeyOf(job: NewJob): string | undefined {
  if (job.idempotencyKey === null) return undefined;
  // The same shape findByIdempotencyKey looks up.
  return JSON.stringify([job.owner.source, job.owner.id, job.idempotencyKey]);
}

function running(attempt: number): TransitionGuard {
  return { from: ['running'], attempt };
}

function fitsGuard(job: JobRecord, guard: TransitionGuard): boolean {
  if (!guard.from.includes(job.status)) return false;
  return guard.attempt === undefined || job.attempts === guard.attempt;
}

function matchesQuery(job: JobRecord, query: JobListQuery): boolean {
  if (query.status !== undefined && !query.status.includes(job.status)) return false;
  if (query.ownerId !== undefined && job.owner.id !== query.ownerId) return false;
  if (query.source !== undefined && job.owner.source !== query.source) return false;
  return query.backend === undefined || job.backend === query.backend;
}

/** A deep copy through JSON, so values look exactly as they would after a database round trip. */
function clone<Value>(value: Value): Value {
  return JSON.parse(JSON.stringify(value)) as Value;
}
