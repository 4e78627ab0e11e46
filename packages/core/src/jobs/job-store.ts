/**
 * Where job records live. Every state change is one atomic, guarded transition: it names the
 * state it expects and fails with `FT_ERR_STORE_CONFLICT` when the job is no longer in it. That
 * guard is what makes "completes exactly once" hold when a slow backend answers for an attempt
 * that was already given up.
 */
import type { GenerationRequest, ResolvedGenerationRequest } from './generation-request.js';
import type {
  JobError,
  JobKind,
  JobOwner,
  JobProgress,
  JobRecord,
  JobResult,
  JobStatus,
} from './job.js';

/** What {@link JobStore.insert} needs; the store assigns the sequence and timestamps. */
export interface NewJob {
  readonly id: string;
  readonly kind: JobKind;
  readonly priority: number;
  readonly owner: JobOwner;
  readonly request: GenerationRequest;
  readonly resolved: ResolvedGenerationRequest;
  readonly idempotencyKey: string | null;
  readonly maxAttempts: number;
}

/** The outcome of an insert: the job, and whether this call created it. */
export interface InsertOutcome {
  readonly job: JobRecord;
  /** False when an earlier job with the same owner and idempotency key was returned instead. */
  readonly created: boolean;
}

/** Filters and paging of {@link JobStore.list}. */
export interface JobListQuery {
  readonly status?: readonly JobStatus[];
  readonly ownerId?: string;
  readonly source?: JobOwner['source'];
  readonly backend?: string;
  /** Newest first; at most this many. */
  readonly limit: number;
  /** Only jobs created before the job with this id (the previous page's last id). */
  readonly before?: string;
}

/** One page of jobs. */
export interface JobPage {
  readonly jobs: readonly JobRecord[];
  /** Pass as `before` for the next page; null on the last page. */
  readonly nextBefore: string | null;
}

/** What start-up recovery did. */
export interface RecoveryOutcome {
  /** Jobs found running and put back in the queue. */
  readonly requeued: readonly JobRecord[];
  /** Jobs found running on their last attempt, now failed with FT_ERR_JOB_ATTEMPTS_EXHAUSTED. */
  readonly failed: readonly JobRecord[];
}

/**
 * The job store. Implementations: `SqliteJobStore` (embedded default), and PostgreSQL for
 * scale-out. Every method may throw `FT_ERR_STORE_FAILURE`; a failed call changes nothing.
 */
export interface JobStore {
  /**
   * Stores a new queued job. With an idempotency key already used by the same owner, returns the
   * earlier job instead and stores nothing.
   */
  insert(job: NewJob): Promise<InsertOutcome>;
  get(id: string): Promise<JobRecord | undefined>;
  /** The job this owner submitted with this idempotency key, if any. */
  findByIdempotencyKey(owner: JobOwner, key: string): Promise<JobRecord | undefined>;
  list(query: JobListQuery): Promise<JobPage>;
  /** Every queued job, in insertion order. */
  listQueued(): Promise<JobRecord[]>;
  /** How many jobs are in each status. */
  countByStatus(): Promise<Record<JobStatus, number>>;

  /**
   * queued -> running on `backend`; increments `attempts` and returns the record, whose new
   * `attempts` is the attempt number later transitions must name.
   */
  markRunning(id: string, backend: string): Promise<JobRecord>;
  /** Records progress of the running attempt; silently ignored when that attempt is over. */
  updateProgress(id: string, attempt: number, progress: JobProgress): Promise<void>;
  /** running (this attempt) -> completed. */
  complete(id: string, attempt: number, result: JobResult): Promise<JobRecord>;
  /** running (this attempt) -> failed. */
  fail(id: string, attempt: number, error: JobError): Promise<JobRecord>;
  /** running (this attempt) -> queued again, keeping its place by sequence; `error` says why. */
  requeue(id: string, attempt: number, error: JobError): Promise<JobRecord>;
  /**
   * queued or running -> cancelled. Returns the cancelled record; throws FT_ERR_JOB_NOT_FOUND or
   * FT_ERR_JOB_NOT_CANCELLABLE.
   */
  cancel(id: string, reason: JobError): Promise<JobRecord>;
  /** Marks images of a completed job as removed by retention. */
  markImagesRemoved(id: string, indexes: readonly number[], removedAt: number): Promise<void>;

  /** Start-up: every running job goes back to the queue, or fails when it had no attempts left. */
  recoverInterrupted(): Promise<RecoveryOutcome>;
  close(): Promise<void>;
}
