/**
 * What every job store implementation does alike: the errors of refused transitions, the
 * records start-up recovery writes, and the checks on list queries. Sharing them keeps the
 * SQLite and in-memory stores answering with the same codes and the same words.
 */
import { ForgeToolError } from '../errors.js';
import type { JobListQuery } from './job-store.js';
import type { JobError, JobRecord, JobResult, JobStatus } from './job.js';
import { RequestError } from './request-error.js';

/** The most jobs one {@link JobListQuery} may ask for. */
export const MAX_LIST_LIMIT = 1_000;

/** What a transition expects of the job it changes. */
export interface TransitionGuard {
  /** The statuses it may start from. */
  readonly from: readonly JobStatus[];
  /** The attempt it belongs to; undefined when any attempt will do. */
  readonly attempt?: number;
}

/** The error for an id no job has. */
export function jobNotFound(id: string): ForgeToolError {
  return new ForgeToolError('FT_ERR_JOB_NOT_FOUND', `No job has the id ${JSON.stringify(id)}`);
}

/**
 * The error for a transition whose guard missed: names what it expected and what it found.
 * @param action - what was attempted, such as `complete`
 */
export function transitionConflict(
  action: string,
  guard: TransitionGuard,
  actual: Pick<JobRecord, 'id' | 'status' | 'attempts'>,
): ForgeToolError {
  const attempt = guard.attempt === undefined ? '' : ` attempt ${guard.attempt}`;
  return new ForgeToolError(
    'FT_ERR_STORE_CONFLICT',
    `Cannot ${action} job ${actual.id}: expected it ${guard.from.join(' or ')}${attempt}, ` +
      `but it is ${actual.status} at attempt ${actual.attempts}`,
  );
}

/** The error for cancelling a job that has already finished. */
export function notCancellable(job: Pick<JobRecord, 'id' | 'status'>): ForgeToolError {
  return new ForgeToolError(
    'FT_ERR_JOB_NOT_CANCELLABLE',
    `Job ${job.id} cannot be cancelled: it is already ${job.status}`,
  );
}

/** Whether a job found running at start-up is put back in the queue (rather than failed). */
export function hasAttemptsLeft(job: Pick<JobRecord, 'attempts' | 'maxAttempts'>): boolean {
  return job.attempts < job.maxAttempts;
}

/**
 * Why start-up recovery moved a job that was running when the engine stopped. A job put back
 * in the queue carries `FT_ERR_QUEUE_CLOSED` (the engine closed under it) as its last error.
 */
export function interruptedError(
  job: Pick<JobRecord, 'attempts' | 'maxAttempts' | 'backend'>,
): JobError {
  const where = job.backend === null ? '' : ` on backend ${job.backend}`;
  const stopped = `The engine stopped during attempt ${job.attempts} of ${job.maxAttempts}${where}`;
  return hasAttemptsLeft(job)
    ? { code: 'FT_ERR_QUEUE_CLOSED', message: `${stopped}; the job was put back in the queue` }
    : { code: 'FT_ERR_JOB_ATTEMPTS_EXHAUSTED', message: `${stopped}; no attempts are left` };
}

/**
 * Checks a list query's limit.
 * @throws RequestError (`FT_ERR_REQUEST_INVALID`) when `limit` is not 1 to {@link MAX_LIST_LIMIT}
 */
export function checkListQuery(query: JobListQuery): void {
  const { limit } = query;
  if (Number.isInteger(limit) && limit >= 1 && limit <= MAX_LIST_LIMIT) return;
  throw new RequestError([
    { field: 'limit', message: `must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${limit}` },
  ]);
}

/** A count of zero for every status, to fill in. */
export function emptyStatusCounts(): Record<JobStatus, number> {
  return { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
}

/** The result with the given images marked removed; an image removed before keeps its time. */
export function withImagesRemoved(
  result: JobResult,
  indexes: readonly number[],
  removedAt: number,
): JobResult {
  const wanted = new Set(indexes);
  const images = result.images.map((image) =>
    wanted.has(image.index) && image.removedAt === null ? { ...image, removedAt } : image,
  );
  return { ...result, images };
}
